"""BTF types → ctypes class source with the C compiler's exact layout.

Every struct and union is emitted with ``_pack_ = 1`` and explicit padding taken
from BTF offsets, so ctypes' own layout rules never decide where a field goes.
Bitfields are :class:`~skelgen_runtime.ctypes_base.BitField` descriptors at their
BTF bit offsets (ctypes bitfields follow MSVC-or-GCC rules of their own); anonymous
members stay transparent through ``_anonymous_``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from skelgen_runtime.btf import Btf
from skelgen_runtime.btf import types as bt

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


@dataclass
class Member:
    """One attribute of an emitted class, as mypy and ctypes will see it."""

    name: str
    annotation: str
    comment: str


@dataclass
class ClassInfo:
    """What a parent needs from an emitted class to flatten an anonymous member."""

    name: str
    members: list[Member] = field(default_factory=list)  # public attributes
    bitfields: list[tuple[str, int, int, bool, str]] = field(default_factory=list)


def _raw_bytes(size: int) -> str:
    return f"ctypes.c_uint8 * {size}"


class TypeEmitter:
    """Emits classes on demand, dependencies first, into :attr:`blocks`."""

    def __init__(self, btf: Btf, module_scope: Scope) -> None:
        self.btf = btf
        self.scope = module_scope
        self.names: dict[int, str] = {}
        self.blocks: list[str] = []
        self.sizes: dict[str, int] = {}
        self.classes: dict[int, ClassInfo] = {}
        self.enum_classes: list[str] = []
        self._emitted: set[int] = set()

    # -- naming -----------------------------------------------------------------------

    def claim_names(self, roots: list[int]) -> None:
        """Name every named type reachable from ``roots``, in the documented order."""
        seen: set[int] = set()
        for root in roots:
            self._collect(root, seen)
        order = (bt.Struct, bt.Union, bt.Enum, bt.Typedef)
        qualifiers = {bt.Struct: "", bt.Union: "union", bt.Enum: "enum", bt.Typedef: "t"}
        for kind in order:
            for type_id in sorted(seen):
                item = self.btf[type_id]
                if type(item) is kind and item.name and not self._is_transparent_typedef(type_id):
                    self.names[type_id] = self.scope.claim(item.name, qualifiers[kind])

    def _collect(self, type_id: int, seen: set[int]) -> None:
        if type_id in seen:
            return
        seen.add(type_id)
        item = self.btf[type_id]
        if isinstance(item, (bt.Struct, bt.Union)):
            for m in item.members:
                self._collect(m.type_id, seen)
        elif isinstance(item, bt.Array):
            self._collect(item.elem_type, seen)
        elif isinstance(item, (bt.Typedef, bt.Const, bt.Volatile, bt.Restrict, bt.TypeTag)):
            self._collect(item.type_id, seen)
        elif isinstance(item, bt.Var):
            self._collect(item.type_id, seen)

    def _is_transparent_typedef(self, type_id: int) -> bool:
        """``typedef struct foo foo;`` needs no alias of its own."""
        item = self.btf[type_id]
        if not isinstance(item, bt.Typedef):
            return False
        target = self.btf[self.btf.skip_modifiers(item.type_id)]
        return target.name == item.name and isinstance(target, (bt.Struct, bt.Union, bt.Enum))

    def _class_name(self, type_id: int, context: str) -> str:
        """The name of a struct/union/enum class; anonymous ones are named after
        where they are used (``parent_member``), or after a typedef of them."""
        if type_id not in self.names:
            self.names[type_id] = self.scope.claim(context)
        return self.names[type_id]

    # -- expressions ------------------------------------------------------------------

    def ctype(self, type_id: int, context: str) -> str:
        """The ctypes expression for a field of type ``type_id``."""
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
            return _FLOATS.get(item.size, _raw_bytes(item.size))
        if isinstance(item, bt.Enum):
            self._enum(type_id, item, context)
            return _INTS.get((item.size, item.signed), _raw_bytes(item.size))
        if isinstance(item, bt.Array):
            elem = self.ctype(item.elem_type, context)
            return f"array({elem}, {item.nelems})"
        if isinstance(item, (bt.Struct, bt.Union)):
            return self._composite(type_id, item, context)
        if isinstance(item, bt.Fwd):
            return _raw_bytes(0)
        raise GeneratorError(f"cannot lay out BTF type {type_id} ({item.kind.name})")

    def annotation(self, type_id: int, context: str) -> str:
        """What reading a field of this type returns, as a Python annotation."""
        resolved = self.btf.resolve(type_id)
        item = self.btf[resolved]
        if isinstance(item, bt.Int):
            if self._is_char(item):
                return "bytes"
            if item.encoding & bt.IntEncoding.BOOL:
                return "bool"
            return "int" if item.size <= 8 else "CArray[int]"
        if isinstance(item, bt.Float):
            return "float" if item.size in _FLOATS else "CArray[int]"
        if isinstance(item, bt.Array):
            elem = self.btf[self.btf.resolve(item.elem_type)]
            if isinstance(elem, bt.Int) and self._is_char(elem):
                return "bytes"
            return f"CArray[{self.annotation(item.elem_type, context)}]"
        if isinstance(item, (bt.Struct, bt.Union)):
            self.ctype(type_id, context)
            return self.names[resolved]
        if isinstance(item, bt.Fwd):
            return "CArray[int]"
        return "int"  # pointers, enums, function pointers

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
        return _INTS.get((item.size, item.signed), _raw_bytes(item.size))

    # -- definitions ------------------------------------------------------------------

    def _typedef(self, type_id: int, item: bt.Typedef, context: str) -> str:
        target_id = self.btf.skip_modifiers(item.type_id)
        target = self.btf[target_id]
        if isinstance(target, (bt.Struct, bt.Union, bt.Enum)) and not target.name:
            # typedef struct { ... } foo_t;  — the class takes the typedef's name.
            if target_id not in self.names:
                self.names[target_id] = self.names.get(type_id) or self.scope.claim(item.name)
            return self.ctype(target_id, item.name)
        if self._is_transparent_typedef(type_id):
            return self.ctype(target_id, item.name)
        name = self.names.get(type_id) or self._class_name(type_id, item.name)
        if type_id not in self._emitted:
            expr = self.ctype(item.type_id, item.name)
            self._emitted.add(type_id)
            self.blocks.append(f"{name} = {expr}  # typedef {declaration(self.btf, item.type_id, comment_text(item.name))}\n")
        return name

    def _enum(self, type_id: int, item: bt.Enum, context: str) -> None:
        if type_id in self._emitted:
            return
        self._emitted.add(type_id)
        name = self._class_name(type_id, f"{context}_enum" if not item.name else item.name)
        members = Scope(ENUM_RESERVED)
        lines = [f"class {name}(enum.IntEnum):", f'    """{type_name(self.btf, type_id)}"""', ""]
        for value in item.values:
            member = members.claim(value.name)
            if member.startswith("_"):
                member = members.claim("v" + member)
            lines.append(f"    {member} = {value.value}")
        if not item.values:
            lines.append("    pass")
        self.enum_classes.append(name)
        self.blocks.append("\n".join(lines) + "\n")

    def _composite(self, type_id: int, item: bt.Struct | bt.Union, context: str) -> str:
        name = self._class_name(type_id, context)
        if type_id in self._emitted:
            return name
        self._emitted.add(type_id)
        members = [(m.name, m.type_id, m.bit_offset, m.bitfield_size) for m in item.members]
        info = self.emit_class(
            name,
            is_union=isinstance(item, bt.Union),
            doc=type_name(self.btf, type_id),
            size=item.size,
            members=members,
        )
        self.classes[type_id] = info
        return name

    def emit_class(self, name: str, *, is_union: bool, doc: str, size: int,
                   members: list[tuple[str, int, int, int]]) -> ClassInfo:
        """Emit one Struct/Union class.  ``members``: (C name, type id, bit offset,
        bitfield size or 0)."""
        # Emit member types first: their classes must exist before this one, and a
        # member may not be named like a type this class annotates with (mypy would
        # resolve the annotation to the member), so those names are reserved here.
        resolved: list[tuple[str, int, int, int, str, str]] = []
        anon_count = 0
        for c_name, member_type, bit_offset, bitfield_size in members:
            if bitfield_size or bit_offset % 8:
                resolved.append((c_name, member_type, bit_offset, bitfield_size, "", ""))
                continue
            if c_name:
                context = f"{name}_{c_name}"
            else:
                context = f"{name}_anon{anon_count}"
                anon_count += 1
            ctype = self.ctype(member_type, context)
            annotation = self.annotation(member_type, context)
            resolved.append((c_name, member_type, bit_offset, 0, ctype, annotation))
        used_types = {a for *_, a in resolved} | {
            m.annotation
            for r in resolved
            if not r[0] and r[4]
            for m in self.classes[self.btf.resolve(r[1])].members
        }
        scope = Scope(CTYPES_RESERVED | frozenset(used_types))
        info = ClassInfo(name)
        fields: list[str] = []
        anonymous: list[str] = []
        cursor = 0
        pad_count = 0
        named = [(scope.claim(r[0]) if r[0] else "", *r) for r in resolved]
        for py_name, c_name, member_type, bit_offset, bitfield_size, ctype, ann in named:
            comment = declaration(self.btf, member_type, comment_text(c_name))
            if not ctype:
                bits = bitfield_size or self.btf.size_of(member_type) * 8
                signed = self._is_signed(member_type)
                info.bitfields.append((py_name, bit_offset, bits, signed, f"{comment} : {bits}"))
                continue
            offset = bit_offset // 8
            if not is_union and offset > cursor:
                pad = scope.claim(f"_pad{pad_count}")
                fields.append(f'("{pad}", {_raw_bytes(offset - cursor)}),')
                pad_count += 1
            elif not is_union and offset < cursor:
                raise GeneratorError(f"{doc}: member {c_name!r} overlaps the previous one")
            if not c_name:
                py_name = scope.claim(f"_anon{len(anonymous)}")
                anonymous.append(py_name)
                inner = self.classes[self.btf.resolve(member_type)]
                info.members += inner.members
                info.bitfields += [
                    (n, off + bit_offset, bits, signed, c)
                    for n, off, bits, signed, c in inner.bitfields
                ]
                fields.append(f'("{py_name}", {ctype}),  # {comment}')
            else:
                info.members.append(Member(py_name, ann, comment))
                fields.append(f'("{py_name}", {ctype}),  # {comment};')
            cursor = max(cursor, offset + self.btf.size_of(member_type))
        if is_union:
            if cursor < size:
                fields.append(f'("{scope.claim("_size")}", {_raw_bytes(size)}),')
        elif cursor < size:
            pad = scope.claim(f"_pad{pad_count}")
            fields.append(f'("{pad}", {_raw_bytes(size - cursor)}),')
        base = "Union" if is_union else "Struct"
        lines = [f"class {name}({base}):", f'    """{comment_text(doc)}"""', ""]
        lines += [f"    {m.name}: {m.annotation}" for m in info.members]
        if anonymous:
            lines.append(f"    _anonymous_ = ({', '.join(repr(a) for a in anonymous)},)")
        lines.append("    _fields_ = [")
        lines += [f"        {f}" for f in fields]
        lines.append("    ]")
        for py_name, bit_offset, bits, signed, comment in info.bitfields:
            lines.append(
                f"    {py_name} = BitField({bit_offset}, {bits}, signed={signed})  # {comment}"
            )
        self.blocks.append("\n".join(lines) + "\n")
        self.sizes[name] = size
        return info

    def _is_signed(self, type_id: int) -> bool:
        item = self.btf[self.btf.resolve(type_id)]
        if isinstance(item, bt.Int):
            return item.signed
        if isinstance(item, bt.Enum):
            return item.signed
        return False
