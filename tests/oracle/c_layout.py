"""C-compiler oracle for the memory layout of the types in a BPF object.

``c_layouts(obj, workdir)`` asks gcc (not BTF) where every member lives:

1. ``bpftool btf dump file OBJ format c`` gives a header with every type;
2. ``bpftool gen skeleton OBJ`` gives one struct per global-data section;
3. a generated C program prints ``sizeof``/``_Alignof`` of each type and
   ``offsetof``/``sizeof`` of each member; bitfields are located
   empirically by setting them to all ones in a zeroed object and scanning
   for the set bits;
4. gcc compiles and runs it (x86_64 lays these types out like BPF does).

BTF is read only for *which* types and members exist and for a sanity check
of whole-type sizes; offsets and bit positions always come from gcc.

Keys of the returned dict (C spelling, as bpftool's header spells it):

* ``"struct foo"``, ``"union foo"``, ``"enum foo"`` for named tags.  When
  bpftool had to rename a clashing tag the renamed spelling is used (e.g.
  a block-scope ``union dup`` next to ``struct dup`` becomes
  ``"union dup___2"``).
* ``"foo_t"`` (bare) for a typedef whose name is unique and whose target
  is complete (struct, union, enum, scalar, pointer, array).
* ``"datasec .bss"``, ``"datasec .data.custom"``, ... for each section
  struct of the skeleton; its ``TypeLayout.name`` is the skeleton's C name,
  e.g. ``"struct types_layout_bpf__bss"``, and its members are the
  non-static variables (as in the skeleton).  Its ``size`` is ``sizeof``
  that struct, which may exceed the section's real size by trailing
  padding (a 21-byte ``.bss`` whose widest member is 4-aligned gives 24).

Member names are C member designators relative to the enclosing type, i.e.
``offsetof(T, name)`` is valid C: members of anonymous struct/union members
appear under their own name (``"lo"``, as C and ctypes ``_anonymous_``
spell them; the anonymous member itself is not listed), members of named
members of an anonymous type are dotted (``"named.deep"``), and arrays of
an anonymous type are entered through element 0 (``"pts[0].x"``).  Members
of *named* types are not repeated; look the type up under its own key.

Known limitation: BTF has no alignment, so bpftool's header drops every
``aligned(N)`` attribute and pads with unnamed bitfields instead.  Sizes
and offsets are therefore exact, but ``TypeLayout.align`` is the alignment
of that reconstruction, which can be lower than the original C's.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["MemberLayout", "OracleError", "TypeLayout", "c_layouts", "header_layouts"]


class OracleError(RuntimeError):
    """A tool failed or its output could not be turned into a layout."""


@dataclass(frozen=True)
class MemberLayout:
    """Where one member lives inside its enclosing type.

    ``offset``: byte offset from the start of the enclosing type; for a
    bitfield, the byte holding its lowest bit (``bit_offset // 8``).
    ``size``: ``sizeof`` the member; for a bitfield, the number of bytes its
    bits touch.  ``bit_offset``/``bit_size``: only for bitfields, the
    absolute bit offset from the start of the enclosing type (bit ``n`` is
    ``1 << (n % 8)`` of byte ``n // 8``, i.e. little-endian as in BTF) and
    the width in bits; ``None`` otherwise.
    """

    name: str
    offset: int
    size: int
    bit_offset: int | None
    bit_size: int | None


@dataclass(frozen=True)
class TypeLayout:
    """``sizeof``, ``_Alignof`` and member layouts of one C type."""

    name: str
    size: int
    align: int
    members: tuple[MemberLayout, ...]

    def member(self, name: str) -> MemberLayout:
        """Return the member with designator ``name``."""
        for m in self.members:
            if m.name == name:
                return m
        raise KeyError(f"{self.name} has no member {name!r}")


# --------------------------------------------------------------------------
# Minimal BTF model: names, kinds and structure only.

_MODIFIERS = frozenset({"CONST", "VOLATILE", "RESTRICT", "TYPE_TAG"})
_TAG_KEYWORD = {"STRUCT": "struct", "UNION": "union", "ENUM": "enum", "ENUM64": "enum"}
_MODE_FOR_SIZE = {1: "QI", 2: "HI", 8: "DI"}


@dataclass(frozen=True)
class _BtfMember:
    name: str
    type_id: int
    is_bitfield: bool


class _Btf:
    """Read-only view of ``bpftool -j btf dump file OBJ``."""

    def __init__(self, raw: Any) -> None:
        try:
            self._types: dict[int, dict[str, Any]] = {
                int(t["id"]): t for t in raw["types"]
            }
        except (KeyError, TypeError) as exc:
            raise OracleError(f"unexpected bpftool JSON: {exc!r}") from exc

    def ids(self) -> Iterator[int]:
        return iter(sorted(self._types))

    def _t(self, type_id: int) -> dict[str, Any]:
        if type_id == 0:
            return {"kind": "VOID", "name": "(anon)"}
        return self._types[type_id]

    def kind(self, type_id: int) -> str:
        return str(self._t(type_id)["kind"])

    def name(self, type_id: int) -> str:
        name = str(self._t(type_id).get("name", "(anon)"))
        return "" if name == "(anon)" else name

    def target(self, type_id: int) -> int:
        return int(self._t(type_id)["type_id"])

    def strip(self, type_id: int, *, typedefs: bool) -> int:
        """Skip qualifiers (and typedefs if asked)."""
        while self.kind(type_id) in _MODIFIERS or (
            typedefs and self.kind(type_id) == "TYPEDEF"
        ):
            type_id = self.target(type_id)
        return type_id

    def element(self, type_id: int) -> tuple[int, int]:
        """Skip qualifiers and arrays (not typedefs); return (type, array rank)."""
        rank = 0
        type_id = self.strip(type_id, typedefs=False)
        while self.kind(type_id) == "ARRAY":
            rank += 1
            type_id = self.strip(self.target(type_id), typedefs=False)
        return type_id, rank

    def size(self, type_id: int) -> int | None:
        """Size from BTF, used only to sanity-check gcc's answer."""
        type_id = self.strip(type_id, typedefs=True)
        t = self._t(type_id)
        if t["kind"] == "ARRAY":
            elem = self.size(int(t["type_id"]))
            return None if elem is None else elem * int(t["nr_elems"])
        if "size" in t and t["kind"] != "DATASEC":
            return int(t["size"])
        return None  # pointers carry no size in BTF

    def is_complete(self, type_id: int) -> bool:
        type_id = self.strip(type_id, typedefs=True)
        kind = self.kind(type_id)
        if kind == "ARRAY":
            return self.is_complete(self.target(type_id))
        return kind in {"STRUCT", "UNION", "ENUM", "ENUM64", "INT", "FLOAT", "PTR"}

    def members(self, type_id: int) -> list[_BtfMember]:
        out = []
        for m in self._t(type_id).get("members", []):
            mtype = int(m["type_id"])
            out.append(_BtfMember(self.name_of(m), mtype, self._is_bitfield(m, mtype)))
        return out

    @staticmethod
    def name_of(entry: dict[str, Any]) -> str:
        name = str(entry.get("name", "(anon)"))
        return "" if name == "(anon)" else name

    def _is_bitfield(self, member: dict[str, Any], mtype: int) -> bool:
        if int(member.get("bitfield_size", 0)) > 0:
            return True
        # Without the kind flag a bitfield is an INT narrower than its storage.
        t = self._t(self.strip(mtype, typedefs=True))
        narrow_int = t["kind"] == "INT" and (
            int(t["nr_bits"]) != 8 * int(t["size"]) or int(t["bits_offset"]) != 0
        )
        return narrow_int or int(member["bits_offset"]) % 8 != 0

    def enumerators(self, type_id: int) -> tuple[str, ...]:
        return tuple(str(v["name"]) for v in self._t(type_id).get("values", []))

    def datasecs(self) -> dict[str, list[tuple[str, int, bool]]]:
        """Section name -> [(variable, type id, is static)]."""
        out: dict[str, list[tuple[str, int, bool]]] = {}
        for type_id in self.ids():
            t = self._t(type_id)
            if t["kind"] != "DATASEC":
                continue
            section = []
            for v in t.get("vars", []):
                var = self._t(int(v["type_id"]))
                is_static = str(var.get("linkage")) == "static"
                section.append((str(var["name"]), int(var["type_id"]), is_static))
            out[str(t["name"])] = section
        return out


# --------------------------------------------------------------------------
# Tool runners and header/skeleton text handling.


def _run(argv: Sequence[str], *, cwd: Path | None = None) -> str:
    try:
        proc = subprocess.run(
            argv, cwd=cwd, capture_output=True, text=True, check=False
        )
    except OSError as exc:
        raise OracleError(f"cannot run {argv[0]}: {exc}") from exc
    if proc.returncode != 0:
        raise OracleError(
            f"{' '.join(map(str, argv))} failed ({proc.returncode}):\n{proc.stderr}"
        )
    return proc.stdout


_ENUM_BODY_RE = re.compile(r"\benum(?: \w+)? \{\n(?P<body>[^}]*)\n\s*\}")
_ENUMERATOR_RE = re.compile(r"^\s*(\w+) = ", re.MULTILINE)
_RENAME_SUFFIX_RE = re.compile(r"___\d+$")


def _fix_enum_sizes(header: str, btf: _Btf) -> str:
    """Give 1-, 2- and 8-byte enums their BTF size in gcc.

    bpftool 7.1 (libbpf 1.1) prints ``enum e { ... }`` without any size
    attribute, so gcc would make a packed 1- or 2-byte enum 4 bytes (and an
    8-byte enum with small values too), shifting every member after it.
    gcc's ``mode`` attribute forces the size and keeps the signedness.
    Enums are matched by their enumerator names, which are unique in C.
    """
    sizes: dict[tuple[str, ...], set[int]] = {}
    for type_id in btf.ids():
        if btf.kind(type_id) in ("ENUM", "ENUM64"):
            size = btf.size(type_id)
            names = btf.enumerators(type_id)
            if names and size is not None:
                sizes.setdefault(names, set()).add(size)

    def patch(match: re.Match[str]) -> str:
        names = tuple(_ENUMERATOR_RE.findall(match["body"]))
        found = sizes.get(names)
        if found is None:  # bpftool renamed clashing enumerators
            found = sizes.get(tuple(_RENAME_SUFFIX_RE.sub("", n) for n in names))
        if found is None:
            raise OracleError(f"enum with enumerators {names} is not in BTF")
        if len(found) != 1:
            raise OracleError(
                f"enums with enumerators {names} have sizes {sorted(found)}"
            )
        mode = _MODE_FOR_SIZE.get(found.pop())
        return match[0] if mode is None else f"{match[0]} __attribute__((mode({mode})))"

    return _ENUM_BODY_RE.sub(patch, header)


_TAG_DEF_RE = re.compile(r"^(struct|union|enum) (\w+) \{", re.MULTILINE)
_IDENT_RE = re.compile(r"\b[A-Za-z_]\w*\b")


def _tag_spellings(header: str, btf: _Btf) -> dict[int, str]:
    """Map each named struct/union/enum BTF id to its spelling in the header.

    bpftool keeps names unless two tags clash (possible with block-scope
    tags), in which case later ones get a ``___N`` suffix; those are told
    apart by kind and then by the identifiers inside the definition.
    """
    defs: dict[str, list[tuple[str, set[str]]]] = {}
    for m in _TAG_DEF_RE.finditer(header):
        end = header.find("\n}", m.start())
        line_end = header.find("\n", m.start())
        if "}" in header[m.start() : line_end]:
            end = line_end  # empty definition on one line: "struct foo {};"
        idents = set(_IDENT_RE.findall(header[m.end() : end]))
        idents |= {_RENAME_SUFFIX_RE.sub("", i) for i in idents}
        defs.setdefault(m[1], []).append((m[2], idents))

    counts: dict[tuple[str, str], int] = {}
    for type_id in btf.ids():
        tag = (_TAG_KEYWORD.get(btf.kind(type_id), ""), btf.name(type_id))
        counts[tag] = counts.get(tag, 0) + 1

    out: dict[int, str] = {}
    for type_id in btf.ids():
        keyword = _TAG_KEYWORD.get(btf.kind(type_id))
        name = btf.name(type_id)
        enumerators = btf.enumerators(type_id)
        if keyword is None or not name:
            continue
        if keyword == "enum" and not enumerators:
            continue  # forward-declared enum: incomplete, no layout
        spellings = [spelled for spelled, _ in defs.get(keyword, [])]
        if counts[keyword, name] == 1 and name in spellings:
            out[type_id] = f"{keyword} {name}"  # bpftool renames only clashes
            continue
        wanted = {m.name for m in btf.members(type_id) if m.name} | set(enumerators)
        renamed = re.compile(rf"{re.escape(name)}(___\d+)?")
        candidates = [
            spelled
            for spelled, idents in defs.get(keyword, [])
            if renamed.fullmatch(spelled) and wanted <= idents
        ]
        if len(candidates) != 1:
            raise OracleError(
                f"{keyword} {name}: header definitions {candidates} match"
            )
        out[type_id] = f"{keyword} {candidates[0]}"
    if len(set(out.values())) != len(out):
        raise OracleError("two BTF types map to the same header definition")
    return out


# "\tstruct X__bss {\n...\t} *bss;" inside the skeleton struct; whatever sits
# between "}" and "*" (attributes in newer bpftool) is kept.
_SKEL_DATASEC_RE = re.compile(
    r"^\tstruct (\w+) \{\n(.*?)^\t\}([^;\n*]*)\*(\w+);$", re.MULTILINE | re.DOTALL
)


def _skeleton_datasecs(skeleton: str) -> list[tuple[str, str, str, str]]:
    """Return (tag, body, trailing attributes, member) per section struct."""
    return [(m[1], m[2], m[3], m[4]) for m in _SKEL_DATASEC_RE.finditer(skeleton)]


def _section_ident(section: str) -> str:
    """bpftool's identifier for a section: ``.data.custom`` -> ``data_custom``."""
    return re.sub(r"\W", "_", section.lstrip("."))


# --------------------------------------------------------------------------
# Probes: what to ask gcc.


@dataclass(frozen=True)
class _Probe:
    key: str
    spelling: str
    btf_size: int | None
    members: tuple[tuple[str, bool], ...]  # (designator, is bitfield)


def _designators(
    btf: _Btf, agg_id: int, prefix: str = ""
) -> Iterator[tuple[str, bool]]:
    for m in btf.members(agg_id):
        yield from _designators_for(btf, m.name, m.type_id, m.is_bitfield, prefix)


def _designators_for(
    btf: _Btf, name: str, type_id: int, is_bitfield: bool, prefix: str
) -> Iterator[tuple[str, bool]]:
    if name:
        yield prefix + name, is_bitfield
    inner, rank = btf.element(type_id)
    # Types without a name have no entry of their own, so descend into them.
    if btf.kind(inner) in ("STRUCT", "UNION") and not btf.name(inner):
        sub = prefix + name + "[0]" * rank + "." if name else prefix
        yield from _designators(btf, inner, sub)


def _aggregate_members(btf: _Btf, type_id: int) -> tuple[tuple[str, bool], ...]:
    agg = btf.strip(type_id, typedefs=True)
    if btf.kind(agg) not in ("STRUCT", "UNION"):
        return ()
    return tuple(_designators(btf, agg))


def _type_probes(btf: _Btf, header: str) -> list[_Probe]:
    tags = _tag_spellings(header, btf)
    typedef_counts: dict[str, int] = {}
    for type_id in btf.ids():
        if btf.kind(type_id) == "TYPEDEF":
            typedef_counts[btf.name(type_id)] = (
                typedef_counts.get(btf.name(type_id), 0) + 1
            )

    probes = []
    for type_id in btf.ids():
        kind = btf.kind(type_id)
        if type_id in tags:
            spelling = tags[type_id]
        elif kind == "TYPEDEF" and typedef_counts[btf.name(type_id)] == 1:
            # A clashing typedef would be renamed by bpftool in a way that
            # cannot be told apart reliably, so only unique ones are probed.
            if not btf.is_complete(type_id):
                continue
            spelling = btf.name(type_id)
        else:
            continue
        probes.append(
            _Probe(
                spelling, spelling, btf.size(type_id), _aggregate_members(btf, type_id)
            )
        )
    return probes


def _datasec_probes(btf: _Btf, skeleton: str) -> tuple[list[_Probe], list[str]]:
    """Probes for the skeleton's section structs, and their C definitions."""
    variables = btf.datasecs()
    sections = {_section_ident(name): name for name in variables}
    probes, definitions = [], []
    for tag, body, attrs, ident in _skeleton_datasecs(skeleton):
        section = sections.get(ident)
        if section is None:
            raise OracleError(f"skeleton struct {tag} matches no BTF section")
        members: list[tuple[str, bool]] = []
        for var, var_type, is_static in variables[section]:
            # The skeleton leaves out static variables; follow what it kept.
            if is_static or not re.search(rf"\b{re.escape(var)}\b", body):
                continue
            members.extend(_designators_for(btf, var, var_type, False, ""))
        spelling = f"struct {tag}"
        # BTF in a .o has section sizes of 0 (libbpf fills them in at open).
        probes.append(_Probe(f"datasec {section}", spelling, None, tuple(members)))
        definitions.append(f"{spelling} {{\n{body}\t}}{attrs.rstrip()};\n")
    return probes, definitions


# --------------------------------------------------------------------------
# C program generation and output parsing.

_C_PRELUDE = """\
/* Generated by tests/oracle/c_layout.py; only builtins so no libc header
 * can clash with a type name from BTF. */
static void oracle__bits(int t, int m, const volatile unsigned char *p, unsigned long n)
{
\tlong first = -1, last = -1, count = 0;
\tfor (unsigned long i = 0; i < n * 8; i++) {
\t\tif ((p[i / 8] >> (i % 8)) & 1) {
\t\t\tif (first < 0)
\t\t\t\tfirst = (long)i;
\t\t\tlast = (long)i;
\t\t\tcount++;
\t\t}
\t}
\t__builtin_printf("B %d %d %ld %ld %ld\\n", t, m, first, last, count);
}

int main(void)
{
"""


def _c_program(probes: Sequence[_Probe], definitions: Sequence[str]) -> str:
    lines = [
        # Keeps bpftool's "#pragma clang attribute" out of gcc's sight.
        "#define BPF_NO_PRESERVE_ACCESS_INDEX",
        '#include "btf_types.h"',
        "",
        *definitions,
        _C_PRELUDE,
    ]
    for ti, p in enumerate(probes):
        t = p.spelling
        lines.append(
            f'\t__builtin_printf("T {ti} %zu %zu\\n", sizeof({t}), _Alignof({t}));'
        )
        for mi, (path, is_bitfield) in enumerate(p.members):
            if is_bitfield:
                # A static object starts all-zero, padding included (C11
                # 6.7.9p10); an initializer rather than an assignment also
                # works for const members.  -1 converts to all ones.
                lines.append(
                    f"\t{{ static {t} oracle__v = {{ .{path} = -1 }};"
                    f" oracle__bits({ti}, {mi}, (const volatile unsigned char *)&oracle__v,"
                    " sizeof(oracle__v)); }"
                )
            else:
                lines.append(
                    f'\t__builtin_printf("M {ti} {mi} %zu %zu\\n",'
                    f" __builtin_offsetof({t}, {path}), sizeof((({t} *)0)->{path}));"
                )
    lines += ["\treturn 0;", "}", ""]
    return "\n".join(lines)


def _parse(output: str, probes: Sequence[_Probe]) -> dict[str, TypeLayout]:
    sizes: dict[int, tuple[int, int]] = {}
    members: dict[tuple[int, int], MemberLayout] = {}
    for line in output.splitlines():
        tag, *fields = line.split()
        nums = [int(f) for f in fields]
        if tag == "T":
            sizes[nums[0]] = (nums[1], nums[2])
        elif tag == "M":
            path = probes[nums[0]].members[nums[1]][0]
            members[nums[0], nums[1]] = MemberLayout(path, nums[2], nums[3], None, None)
        elif tag == "B":
            ti, mi, first, last, count = nums
            path = probes[ti].members[mi][0]
            if count == 0 or last - first + 1 != count:
                raise OracleError(
                    f"{probes[ti].spelling}.{path}: bits {first}..{last} x{count}"
                )
            span = last // 8 - first // 8 + 1
            members[ti, mi] = MemberLayout(path, first // 8, span, first, count)
        else:
            raise OracleError(f"unexpected oracle output line: {line!r}")

    layouts: dict[str, TypeLayout] = {}
    mismatches = []
    for ti, p in enumerate(probes):
        size, align = sizes[ti]
        if p.btf_size is not None and size != p.btf_size:
            mismatches.append(f"{p.spelling}: gcc {size}, BTF {p.btf_size}")
        mlist = tuple(members[ti, mi] for mi in range(len(p.members)))
        layouts[p.key] = TypeLayout(p.spelling, size, align, mlist)
    if mismatches:
        # The header did not reproduce BTF; any offset from it is suspect.
        raise OracleError(
            "bpftool's header disagrees with BTF:\n" + "\n".join(mismatches)
        )
    return layouts


def c_layouts(
    obj_path: Path, workdir: Path, *, bpftool: str = "bpftool", cc: str = "gcc"
) -> dict[str, TypeLayout]:
    """Return the gcc-computed layout of every named type and data section.

    ``workdir`` receives the intermediate files (``btf_types.h``,
    ``oracle.c``, ``oracle``), which helps when a layout looks wrong.
    """
    obj_path = Path(obj_path).resolve()
    btf = _Btf(json.loads(_run([bpftool, "-j", "btf", "dump", "file", str(obj_path)])))
    header = _run([bpftool, "btf", "dump", "file", str(obj_path), "format", "c"])
    skeleton = _run([bpftool, "gen", "skeleton", str(obj_path)])

    header = _fix_enum_sizes(header, btf)
    probes = _type_probes(btf, header)
    datasec_probes, definitions = _datasec_probes(btf, skeleton)
    probes += datasec_probes
    return _run_probes(header, probes, definitions, Path(workdir), cc)


def header_layouts(
    btf_path: Path,
    header: str,
    workdir: Path,
    *,
    keep: Callable[[str], bool] = lambda key: True,
    fix_enum_sizes: bool = False,
    bpftool: str = "bpftool",
    cc: str = "gcc",
) -> dict[str, TypeLayout]:
    """Return the gcc-computed layout of the structs and unions of the BTF in
    ``btf_path`` (an object or raw BTF such as ``/sys/kernel/btf/vmlinux``) as
    ``header`` defines them; ``keep(key)`` chooses which (keys ``"struct foo"``,
    ``"union foo"``).  To compare two headers of one BTF: only tags whose name
    is unique are probed, as no header renames those.  ``fix_enum_sizes``
    gives the enums of an older bpftool's header their BTF size first.
    """
    btf = _Btf(json.loads(_run([bpftool, "-j", "btf", "dump", "file", str(btf_path)])))
    if fix_enum_sizes:
        header = _fix_enum_sizes(header, btf)
    tags = [i for i in btf.ids() if btf.kind(i) in _TAG_KEYWORD and btf.name(i)]
    counts: dict[str, int] = {}
    for type_id in tags:
        counts[btf.name(type_id)] = counts.get(btf.name(type_id), 0) + 1
    probes = []
    for type_id in tags:
        keyword = _TAG_KEYWORD[btf.kind(type_id)]
        key = f"{keyword} {btf.name(type_id)}"
        if keyword != "enum" and counts[btf.name(type_id)] == 1 and keep(key):
            members = _aggregate_members(btf, type_id)
            probes.append(_Probe(key, key, btf.size(type_id), members))
    return _run_probes(header, probes, [], Path(workdir), cc)


def _run_probes(
    header: str,
    probes: Sequence[_Probe],
    definitions: Sequence[str],
    workdir: Path,
    cc: str,
) -> dict[str, TypeLayout]:
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "btf_types.h").write_text(header)
    (workdir / "oracle.c").write_text(_c_program(probes, definitions))
    # gnu11: C23 would make "bool"/"true" keywords that BTF may use as names.
    _run([cc, "-std=gnu11", "-O0", "-w", "-o", "oracle", "oracle.c"], cwd=workdir)
    return _parse(_run([str(workdir / "oracle")]), probes)


def _main(argv: Sequence[str]) -> int:
    """``python c_layout.py OBJ WORKDIR``: print the layouts, for debugging."""
    if len(argv) != 2:
        print("usage: c_layout.py OBJ WORKDIR", file=sys.stderr)
        return 2
    for key, t in c_layouts(Path(argv[0]), Path(argv[1])).items():
        print(f"{key}  [{t.name}] size={t.size} align={t.align}")
        for m in t.members:
            bits = "" if m.bit_offset is None else f" bits={m.bit_offset}:{m.bit_size}"
            print(f"    {m.name}: offset={m.offset} size={m.size}{bits}")
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
