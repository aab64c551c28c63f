"""How names read from an object become Python identifiers — one rule, documented.

Nothing from the object reaches generated source except through :func:`identifier`
(or as a ``repr()`` literal / a sanitised comment).  The rule, applied in order:

1. every character outside ``[A-Za-z0-9_]`` becomes ``_``; an empty name becomes
   ``anon``; a name starting with a digit gets an ``n`` prefix;
2. a name starting with two underscores gets a ``c`` prefix (``__u32`` → ``c__u32``):
   Python would mangle it inside class bodies, and dunders are Python's own;
3. a name that is a Python keyword, or is reserved in its scope, gets a ``_``
   suffix (``class`` → ``class_``), repeated until it is neither;
4. a name already taken in its scope gets a qualifier where one is given (a union
   ``dup`` beside a struct ``dup`` becomes ``dup_union``), else ``_2``, ``_3``...

The scopes and what each reserves:

* module: Python's builtins and the names the module imports or defines itself
  (:data:`MODULE_RESERVED`).  The skeleton's classes (``DemoBpf``, ``DemoBpfMaps``,
  ``...Progs``, ``...Links``) are claimed first, then every named C type of the
  object — emitted or not, so that ``--type``/``--all-types`` never rename a class —
  structs, unions, enums, then typedefs (qualifiers ``union``, ``enum``, ``t``),
  each in BTF order; then anonymous types as they are emitted, named after where
  they are used (``<parent>_<member>``, ``<parent>_anon<N>`` for an anonymous
  member, ``<parent>_<member>_enum``, or the name of a typedef of them); then the
  section classes (``DemoBpfBss``...).
* class members (C members, or a section's variables): ctypes' own attributes
  (:data:`CTYPES_RESERVED`), what the class body looks up after the annotations
  (``ctypes``, ``array``, ``BitField``), the names an anonymous member brings in,
  and any name that *another* member's annotation uses (in ``struct { struct bar
  bar; struct bar other; }`` the first becomes ``bar_``; a lone ``struct bar bar;``
  keeps its name).  Members are claimed in C order, before padding (``_pad<N>``,
  ``_size``) and anonymous members (``_anon<N>``).
* enumerators: the attributes of IntEnum members (:data:`ENUM_RESERVED`); a name
  not starting with an ASCII letter or digit gets a ``v`` prefix first (``_x`` →
  ``v_x``, ``[x]`` → ``v_x_``), so that none becomes one of Enum's reserved
  ``_sunder_`` names.

The same object and options therefore always give the same names.
"""

from __future__ import annotations

import builtins
import keyword
import re

_NOT_IDENT = re.compile(r"[^A-Za-z0-9_]")

# Attributes of ctypes instances and classes, and of the runtime's Struct base.
CTYPES_RESERVED = frozenset(
    {
        "_fields_",
        "_pack_",
        "_anonymous_",
        "_align_",
        "_layout_",
        "_b_base_",
        "_b_needsfree_",
        "_objects",
        "_type_",
        "_length_",
        "_as_parameter_",
        "_frozen_",
        "_memory_",
        "__slots__",
        "from_buffer",
        "from_buffer_copy",
        "from_address",
        "from_param",
        "in_dll",
        "mro",
    }
)

# Attributes of IntEnum members (Enum's and int's): an enumerator named like one
# would shadow it, and mypy rejects it.  A fixed list, so that the output does not
# depend on the Python version running the generator.
ENUM_RESERVED = frozenset(
    {
        "name",
        "value",
        "mro",
        "as_integer_ratio",
        "bit_count",
        "bit_length",
        "conjugate",
        "denominator",
        "from_bytes",
        "imag",
        "is_integer",
        "numerator",
        "real",
        "to_bytes",
    }
)

# Names the generated module imports or defines itself, and builtins it uses in
# annotations; a C type with one of these names would shadow them.
MODULE_RESERVED = frozenset(dir(builtins)) | frozenset(
    {
        "annotations",
        "ctypes",
        "enum",
        "zlib",
        "base64",
        "Any",
        "ClassVar",
        "Struct",
        "Union",
        "CArray",
        "BitField",
        "array",
        "check_sizes",
        "Skeleton",
        "MapNamespace",
        "ProgramNamespace",
        "LinkNamespace",
        "Map",
        "HashMap",
        "ArrayMap",
        "RingBuf",
        "Program",
        "Link",
    }
)


def identifier(raw: str, reserved: frozenset[str] = frozenset()) -> str:
    """Steps 1-3 of the rule: a safe identifier for ``raw`` (not yet unique)."""
    name = _NOT_IDENT.sub("_", raw.encode("ascii", "replace").decode("ascii"))
    if not name:
        name = "anon"
    if name[0].isdigit():
        name = "n" + name
    if name.startswith("__"):
        name = "c" + name
    while keyword.iskeyword(name) or name in reserved:
        name += "_"
    return name


class Scope:
    """A namespace in which every identifier is unique (step 4)."""

    def __init__(self, reserved: frozenset[str] = frozenset()) -> None:
        self.reserved = reserved
        self.taken: set[str] = set()
        # the last number given to each base: every lower one is taken, so a
        # thousand types of one name cost a thousand steps, not half a million
        self._last: dict[str, int] = {}

    def claim(
        self, raw: str, qualifier: str = "", reserved: frozenset[str] = frozenset()
    ) -> str:
        """A unique identifier for ``raw``; ``reserved`` adds names for this claim."""
        base = identifier(raw, self.reserved | reserved)
        name = base
        if name in self.taken and qualifier:
            base = name = f"{base}_{qualifier}"
        if name in self.taken:
            n = self._last.get(base, 1)
            while name in self.taken:
                n += 1
                name = f"{base}_{n}"
            self._last[base] = n
        self.taken.add(name)
        return name


def camel_case(name: str) -> str:
    """``minimal_bpf`` → ``MinimalBpf`` (the skeleton class name)."""
    parts = [p for p in identifier(name).split("_") if p]
    out = "".join(p[:1].upper() + p[1:] for p in parts) or "Obj"
    return out if not out[0].isdigit() else "Obj" + out


def comment_text(raw: str) -> str:
    """Text safe inside a ``#`` comment or a docstring: printable ASCII, no quotes
    or backslashes."""
    return "".join(c if " " <= c <= "~" and c not in "\"'\\" else "?" for c in raw)
