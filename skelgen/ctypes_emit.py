"""BTF types → ctypes class source with the C compiler's exact layout.

Every struct and union is emitted with ``_pack_ = 1`` and explicit padding taken
from BTF offsets, so ctypes' own layout rules never decide where a field goes.
Bitfields are :class:`~skelgen_runtime.cdata.types.BitField` descriptors at their
BTF bit offsets (ctypes bitfields follow MSVC-or-GCC rules of their own); anonymous
members stay transparent through ``_anonymous_``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from skelgen_runtime.btf import Btf, types as bt

from .c_decl import declaration, type_name
from .naming import CTYPES_RESERVED, ENUM_RESERVED, Scope, comment_text


class GeneratorError(Exception):
    """The object holds something the generator cannot express."""


_INTS = {
    (1, True): "ctypes.c_int8",
    (1, False): "ctypes.c_uint8",
    (2, True): "ctypes.c_int16",
    (2, False): "ctypes.c_uint16",
    (4, True): "ctypes.c_int32",
    (4, False): "ctypes.c_uint32",
    (8, True): "ctypes.c_int64",
    (8, False): "ctypes.c_uint64",
}
_FLOATS = {4: "ctypes.c_float", 8: "ctypes.c_double"}
_LINE_LENGTH = 88  # black's
_COMPOSITES = (bt.Struct, bt.Union)
_NAMED_KINDS = (bt.Struct, bt.Union, bt.Enum, bt.Typedef)
# Qualifier that step 4 of the naming rule appends on a clash, per kind.
_QUALIFIERS = {bt.Struct: "", bt.Union: "union", bt.Enum: "enum", bt.Typedef: "t"}
# A name the class body looks up (not an attribute after a dot).
_REFERENCE = re.compile(r"(?<![.\w])[A-Za-z_]\w*")


@dataclass
class Member:
    """One public attribute of an emitted class backed by a ctypes field."""

    name: str  # the Python attribute
    c_name: str  # the C member (or variable) it stands for
    annotation: str
    comment: str


@dataclass
class BitMember:
    """One bitfield of an emitted class: a BitField descriptor."""

    name: str
    c_name: str
    bit_offset: int  # from the start of the class that declares the descriptor
    bits: int
    signed: bool
    comment: str


@dataclass
class ClassInfo:
    """The attributes of an emitted Struct/Union class, anonymous members flattened."""

    name: str
    members: list[Member] = field(default_factory=list)
    bitfields: list[BitMember] = field(default_factory=list)
    # Every name ctypes sets on a class that holds this one as an anonymous member.
    flat_fields: set[str] = field(default_factory=set)

    def attribute(self, c_name: str) -> str:
        """The Python attribute of the C member ``c_name``."""
        for m in self.members:
            if m.c_name == c_name:
                return m.name
        for b in self.bitfields:
            if b.c_name == c_name:
                return b.name
        raise KeyError(f"{self.name} has no member {c_name!r}")


@dataclass
class _Slot:
    """A member of a class being emitted, before it gets its Python name."""

    c_name: str
    type_id: int
    bit_offset: int
    ctype: str
    annotation: str = ""  # "" for a bitfield
    bits: int = 0  # width of a bitfield
    inner: ClassInfo | None = None  # the flattened class of an anonymous member


def _raw_bytes(size: int) -> str:
    """Padding: bytes nobody names."""
    return f"ctypes.c_uint8 * {size}"


def _byte_array(size: int) -> str:
    """A value ctypes has no type for (``__int128``, ``_Float16``): its bytes."""
    return f"array(ctypes.c_uint8, {size})"


def _commented(indent: str, code: str, comment: str) -> list[str]:
    """``code  # comment``, or the comment on a line of its own where the line would
    be too long for black, which would otherwise split the code around it."""
    line = f"{indent}{code}  # {comment}" if comment else indent + code
    if len(line) <= _LINE_LENGTH:
        return [line]
    return [f"{indent}# {comment}", indent + code]


def _member_names(slots: list[_Slot]) -> tuple[Scope, list[str]]:
    """The Python names of a class's named members ("" for anonymous ones), and the
    scope in which padding and anonymous members are named afterwards.

    A member must not hide what the class body looks up after it: ctypes and array
    in _fields_, BitField, a name ctypes or a flattened bitfield puts there, or a
    type another member's annotation names (mypy resolves annotations in class
    scope first; ``bar: bar`` alone is fine).
    """
    inners = [s.inner for s in slots if s.inner is not None]
    reserved = set(CTYPES_RESERVED) | {"ctypes", "array", "BitField"}
    for inner in inners:
        reserved |= inner.flat_fields | {b.name for b in inner.bitfields}
    scope = Scope(frozenset(reserved))
    refs = [set(_REFERENCE.findall(s.annotation)) for s in slots]
    flat_refs = {
        ref
        for i in inners
        for m in i.members
        for ref in _REFERENCE.findall(m.annotation)
    }
    names = []
    for k, s in enumerate(slots):
        others = flat_refs.union(*(r for j, r in enumerate(refs) if j != k))
        names.append(
            scope.claim(s.c_name, reserved=frozenset(others)) if s.c_name else ""
        )
    return scope, names


def _declaration_order(members: list[Member]) -> list[Member]:
    """C order, except that a flattened member, which keeps the name its own class
    gave it, is declared after the annotations that name a type like it."""
    late = [
        m
        for m in members
        if any(
            m.name in _REFERENCE.findall(o.annotation) for o in members if o is not m
        )
    ]
    return [m for m in members if all(m is not n for n in late)] + late


class TypeEmitter:
    """Emits classes on demand, dependencies first, into :attr:`blocks`.

    After generation :attr:`names` maps BTF type ids to the names the module binds
    and :attr:`classes` maps each Struct/Union class name to its :class:`ClassInfo`.
    """

    def __init__(self, btf: Btf, module_scope: Scope) -> None:
        self.btf = btf
        self.scope = module_scope
        self.names: dict[int, str] = {}
        self.blocks: list[str] = []
        self.sizes: dict[str, int] = {}
        self.classes: dict[str, ClassInfo] = {}
        self.enum_classes: list[str] = []
        self._emitted: set[int] = set()

    # -- naming -----------------------------------------------------------------------

    def claim_names(self) -> None:
        """Name every named type of the object, in the documented order.

        All of them, emitted or not: asking for more types (``--type``,
        ``--all-types``) must never rename a class an application already uses.
        """
        for kind in _NAMED_KINDS:
            for type_id, item in enumerate(self.btf.types):
                if type(item) is not kind or not item.name:
                    continue
                if not self._is_transparent_typedef(type_id):
                    self.names[type_id] = self.scope.claim(item.name, _QUALIFIERS[kind])

    def _is_transparent_typedef(self, type_id: int) -> bool:
        """``typedef struct foo foo;`` needs no alias of its own."""
        item = self.btf[type_id]
        if not isinstance(item, bt.Typedef):
            return False
        target = self.btf[self.btf.skip_modifiers(item.type_id)]
        return target.name == item.name and isinstance(target, (*_COMPOSITES, bt.Enum))

    def _class_name(self, type_id: int, context: str) -> str:
        """The name of a struct/union/enum class; anonymous ones are named after
        where they are used (``parent_member``), or after a typedef of them."""
        if type_id not in self.names:
            self.names[type_id] = self.scope.claim(context)
        return self.names[type_id]

    # -- expressions ------------------------------------------------------------------

    def ctype(self, type_id: int, context: str) -> str:
        """The ctypes expression for a field of type ``type_id``, emitting the
        classes it needs; ``context`` names an anonymous type."""
        item = self.btf[type_id]
        if isinstance(item, (bt.Const, bt.Volatile, bt.Restrict, bt.TypeTag)):
            return self.ctype(item.type_id, context)
        if isinstance(item, bt.Typedef):
            return self._typedef(type_id, item, context)
        if isinstance(item, bt.Int):
            return self._int(item)
        if isinstance(item, (bt.Ptr, bt.FuncProto)):
            return "ctypes.c_uint64"
        if isinstance(item, bt.Float):
            return _FLOATS.get(item.size, _byte_array(item.size))
        if isinstance(item, bt.Enum):
            self._enum(type_id, item, context)
            return _INTS.get((item.size, item.signed), _byte_array(item.size))
        if isinstance(item, bt.Array):
            elem = self.ctype(item.elem_type, context)
            return f"array({elem}, {item.nelems})"
        if isinstance(item, _COMPOSITES):
            return self._composite(type_id, item, context)
        if isinstance(item, bt.Fwd):
            return _byte_array(0)  # incomplete: only a variable's type can be one
        if isinstance(item, bt.Void):
            return "None"  # only a typedef can name void; nothing is laid out as it
        raise GeneratorError(f"cannot lay out BTF type {type_id} ({item.kind.name})")

    def expression(self, type_id: int) -> str:
        """The expression the generated module uses for an emitted type: its class,
        its typedef alias or a ctypes expression (for tools and tests)."""
        blocks = len(self.blocks)
        expr = self.ctype(type_id, "")
        if len(self.blocks) != blocks:
            raise GeneratorError(f"BTF type {type_id} was not emitted")
        return expr

    def annotation(self, type_id: int, context: str) -> str:
        """What reading a field or an array element of this type returns, as a
        Python annotation."""
        resolved = self.btf.resolve(type_id)
        item = self.btf[resolved]
        if isinstance(item, bt.Int):
            if self._is_char(item):
                return "bytes"
            if item.encoding & bt.IntEncoding.BOOL and item.size == 1:
                return "bool"
            return "int" if item.size in (1, 2, 4, 8) else "CArray[int]"
        if isinstance(item, bt.Float):
            return "float" if item.size in _FLOATS else "CArray[int]"
        if isinstance(item, bt.Array) and self._is_char_type(item.elem_type):
            return "bytes"  # a char array reads and writes as bytes, wherever it is
        if isinstance(item, bt.Array):
            return f"CArray[{self.annotation(item.elem_type, context)}]"
        if isinstance(item, _COMPOSITES):
            self.ctype(type_id, context)
            return self.names[resolved]
        if isinstance(item, bt.Enum):
            return "int" if item.size in (1, 2, 4, 8) else "CArray[int]"
        if isinstance(item, bt.Fwd):
            return "CArray[int]"
        return "int"  # pointers and function pointers: addresses

    def _is_char_type(self, type_id: int) -> bool:
        item = self.btf[self.btf.resolve(type_id)]
        return isinstance(item, bt.Int) and self._is_char(item)

    @staticmethod
    def _is_char(item: bt.Int) -> bool:
        return item.size == 1 and (
            item.name == "char" or bool(item.encoding & bt.IntEncoding.CHAR)
        )

    def _int(self, item: bt.Int) -> str:
        if item.encoding & bt.IntEncoding.BOOL and item.size == 1:
            return "ctypes.c_bool"
        if self._is_char(item):
            return "ctypes.c_char"
        return _INTS.get((item.size, item.signed), _byte_array(item.size))

    # -- definitions ------------------------------------------------------------------

    def _typedef(self, type_id: int, item: bt.Typedef, context: str) -> str:
        target_id = self.btf.skip_modifiers(item.type_id)
        target = self.btf[target_id]
        if self._is_transparent_typedef(type_id):
            return self.ctype(target_id, item.name)
        name = self._class_name(type_id, item.name)
        if isinstance(target, (*_COMPOSITES, bt.Enum)) and not target.name:
            # typedef struct { ... } foo_t;  — the class takes the typedef's name.
            self.names.setdefault(target_id, name)
        expr = self.ctype(item.type_id, item.name)
        bound = self._bound_name(target_id, expr)
        if bound != name and type_id not in self._emitted:
            self._emitted.add(type_id)
            decl = declaration(self.btf, item.type_id, comment_text(item.name))
            self.blocks.append(
                "\n".join(_commented("", f"{name} = {bound}", f"typedef {decl}")) + "\n"
            )
        # A typedef of an enum names its IntEnum companion, not its storage.
        return (
            expr if isinstance(self.btf[self.btf.resolve(type_id)], bt.Enum) else name
        )

    def _bound_name(self, target_id: int, expr: str) -> str:
        """What a typedef of ``target_id`` aliases: an enum's IntEnum companion,
        else the target's ctypes expression."""
        if isinstance(self.btf[target_id], bt.Enum):
            return self.names[target_id]
        if isinstance(self.btf[target_id], bt.Typedef):
            return self.names.get(target_id, expr)
        return expr

    def _enum(self, type_id: int, item: bt.Enum, context: str) -> None:
        if type_id in self._emitted:
            return
        self._emitted.add(type_id)
        name = self._class_name(
            type_id, f"{context}_enum" if not item.name else item.name
        )
        members = Scope(ENUM_RESERVED)
        doc = comment_text(type_name(self.btf, type_id))
        lines = [f"class {name}(enum.IntEnum):", f'    """{doc}"""', ""]
        for value in item.values:
            raw = value.name
            # Enum reserves _sunder_ and __dunder__ names: whatever sanitising would
            # turn into a leading underscore gets the prefix too ("[x]" -> "v_x_").
            if not (raw[:1].isascii() and raw[:1].isalnum()):
                raw = "v" + raw
            lines.append(f"    {members.claim(raw)} = {value.value}")
        if not item.values:
            lines.append("    pass")
        self.enum_classes.append(name)
        self.blocks.append("\n".join(lines) + "\n")

    def _composite(self, type_id: int, item: bt.Struct | bt.Union, context: str) -> str:
        name = self._class_name(type_id, context)
        if type_id in self._emitted:
            return name
        self._emitted.add(type_id)
        members = [
            (m.name, m.type_id, m.bit_offset, m.bitfield_size) for m in item.members
        ]
        self.emit_class(
            name,
            is_union=isinstance(item, bt.Union),
            doc=type_name(self.btf, type_id),
            size=item.size,
            members=members,
        )
        return name

    def _bitfield_width(self, type_id: int, bit_offset: int, bitfield_size: int) -> int:
        """The width of a bitfield member, or 0 for a member laid out in whole bytes."""
        if bitfield_size:
            return bitfield_size
        item = self.btf[self.btf.resolve(type_id)]
        if isinstance(item, bt.Int) and (item.bit_offset or item.bits != item.size * 8):
            return item.bits  # pre-kind_flag encoding: the INT itself is narrow
        if bit_offset % 8:
            return self.btf.size_of(type_id) * 8
        return 0

    def _slots(
        self, name: str, members: list[tuple[str, int, int, int]]
    ) -> list[_Slot]:
        """Resolve each member's type (emitting it) before this class is written."""
        slots = []
        anon_count = 0
        for c_name, type_id, bit_offset, bitfield_size in members:
            if c_name:
                context = f"{name}_{c_name}"
            else:
                context = f"{name}_anon{anon_count}"
                anon_count += 1
            ctype = self.ctype(type_id, context)  # also emits an enum's companion
            bits = self._bitfield_width(type_id, bit_offset, bitfield_size)
            if bits:
                item = self.btf[self.btf.resolve(type_id)]
                if isinstance(item, bt.Int) and not bitfield_size:
                    bit_offset += item.bit_offset
                if c_name:  # an unnamed bitfield is padding
                    slots.append(_Slot(c_name, type_id, bit_offset, ctype, bits=bits))
                continue
            resolved = self.btf.resolve(type_id)
            if not c_name:
                if isinstance(self.btf[resolved], _COMPOSITES):
                    inner = self.classes[self.names[resolved]]
                    slots.append(_Slot("", type_id, bit_offset, ctype, inner=inner))
                continue  # an unnamed scalar holds nothing one could name
            annotation = self.annotation(type_id, context)
            slots.append(_Slot(c_name, type_id, bit_offset, ctype, annotation))
        return sorted(slots, key=lambda s: s.bit_offset)

    def emit_class(
        self,
        name: str,
        *,
        is_union: bool,
        doc: str,
        size: int,
        members: list[tuple[str, int, int, int]],
    ) -> ClassInfo:
        """Emit one Struct/Union class.  ``members``: (C name, type id, bit offset,
        bitfield size or 0)."""
        slots = self._slots(name, members)
        scope, names = _member_names(slots)
        info = ClassInfo(name)
        fields: list[tuple[str, str, str]] = []  # (name, ctype, comment)
        anonymous: list[str] = []
        cursor = pads = 0
        for py_name, s in zip(names, slots, strict=True):
            comment = declaration(self.btf, s.type_id, comment_text(s.c_name))
            if s.bits:
                signed = self._is_signed(s.type_id)
                comment = f"{comment} : {s.bits}"
                info.bitfields.append(
                    BitMember(py_name, s.c_name, s.bit_offset, s.bits, signed, comment)
                )
                continue
            offset = s.bit_offset // 8
            if is_union and offset:
                # ctypes places every union member at 0, as C does
                raise GeneratorError(
                    f"{doc}: union member {s.c_name!r} at byte offset {offset}"
                )
            if not is_union and offset > cursor:
                fields.append(
                    (scope.claim(f"_pad{pads}"), _raw_bytes(offset - cursor), "")
                )
                pads += 1
            elif not is_union and offset < cursor:
                raise GeneratorError(
                    f"{doc}: member {s.c_name!r} overlaps the previous one"
                )
            if s.inner is not None:
                anonymous.append(scope.claim(f"_anon{len(anonymous)}"))
                fields.append((anonymous[-1], s.ctype, comment))
                info.members += s.inner.members
                info.bitfields += [
                    BitMember(
                        b.name,
                        b.c_name,
                        b.bit_offset + s.bit_offset,
                        b.bits,
                        b.signed,
                        b.comment,
                    )
                    for b in s.inner.bitfields
                ]
                info.flat_fields |= s.inner.flat_fields
            else:
                info.members.append(Member(py_name, s.c_name, s.annotation, comment))
                fields.append((py_name, s.ctype, comment + ";"))
            cursor = max(cursor, offset + self.btf.size_of(s.type_id))
        ends = [cursor, *((b.bit_offset + b.bits + 7) // 8 for b in info.bitfields)]
        if max(ends) > size:
            raise GeneratorError(
                f"{doc}: members need {max(ends)} bytes, BTF says {size}"
            )
        if cursor < size:
            # A union's alignment can make it larger than its largest member.
            pad = scope.claim("_size" if is_union else f"_pad{pads}")
            fields.append((pad, _raw_bytes(size if is_union else size - cursor), ""))
        info.flat_fields |= {f[0] for f in fields if f[0] not in anonymous}
        info.members = _declaration_order(info.members)
        self._write_class(
            info, "Union" if is_union else "Struct", doc, anonymous, fields
        )
        self.classes[name] = info
        self.sizes[name] = size
        return info

    def _write_class(
        self,
        info: ClassInfo,
        base: str,
        doc: str,
        anonymous: list[str],
        fields: list[tuple[str, str, str]],
    ) -> None:
        lines = [f"class {info.name}({base}):", f'    """{comment_text(doc)}"""', ""]
        lines += [f"    {m.name}: {m.annotation}" for m in info.members]
        # No instance dict: assigning a name that is no field raises.
        lines.append("    __slots__ = ()")
        if anonymous:
            lines.append(
                f"    _anonymous_ = ({', '.join(repr(a) for a in anonymous)},)"
            )
        lines.append("    _fields_ = [")
        for field_name, ctype, comment in fields:
            lines += _commented(" " * 8, f'("{field_name}", {ctype}),', comment)
        lines.append("    ]")
        for b in info.bitfields:
            bitfield = f"BitField({b.bit_offset}, {b.bits}, signed={b.signed})"
            lines += _commented(" " * 4, f"{b.name} = {bitfield}", b.comment)
        self.blocks.append("\n".join(lines) + "\n")

    def _is_signed(self, type_id: int) -> bool:
        item = self.btf[self.btf.resolve(type_id)]
        if isinstance(item, (bt.Int, bt.Enum)):
            return item.signed
        return False
