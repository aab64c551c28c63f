"""Raw BTF bytes ↔ the type model (:mod:`.types`).  Pure: no syscalls.

Format: ``include/uapi/linux/btf.h`` — a header, a type section of ``btf_type``
records each followed by kind-specific data, and a string section.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable

from ..errors import ObjectError
from ..lean.hints import TypeVar
from . import types as t

BTF_MAGIC = 0xEB9F
_HEADER = struct.Struct("<HBBIIIII")
_TYPE = struct.Struct("<III")
_U32 = struct.Struct("<I")
_PAIR = struct.Struct("<II")
_TRIPLE = struct.Struct("<III")
_ENUM = struct.Struct("<Ii")
_ENUM_U = struct.Struct("<II")


class StringTable:
    """A BTF string section that keeps the original bytes and appends new strings.

    Keeping the original offsets valid matters: ``.BTF.ext`` line info refers to them.
    """

    def __init__(self, original: bytes = b"\0") -> None:
        self._data = bytearray(original or b"\0")
        self._offsets: dict[str, int] = {}
        start = 0
        for chunk in bytes(self._data).split(b"\0"):
            self._offsets.setdefault(chunk.decode("utf-8", "replace"), start)
            start += len(chunk) + 1

    def offset(self, text: str) -> int:
        off = self._offsets.get(text)
        if off is None:
            off = len(self._data)
            self._data += text.encode() + b"\0"
            self._offsets[text] = off
        return off

    def to_bytes(self) -> bytes:
        return bytes(self._data)


def read_string(strings: bytes, offset: int) -> str:
    end = strings.find(b"\0", offset)
    if offset > len(strings) or end < 0:
        raise ObjectError(f"BTF string offset {offset} is outside the string section")
    return strings[offset:end].decode("utf-8", "replace")


def sections(data: bytes) -> tuple[int, int, bytes]:
    """Where the type section starts, its length, and the string section."""
    if len(data) < _HEADER.size:
        raise ObjectError("BTF section is truncated")
    magic, _version, _flags, hdr_len, type_off, type_len, str_off, str_len = (
        _HEADER.unpack_from(data)
    )
    if magic != BTF_MAGIC:
        raise ObjectError(
            "BTF section has a bad magic number (big-endian objects are not supported)"
        )
    type_start = hdr_len + type_off
    str_start = hdr_len + str_off
    if type_start + type_len > len(data) or str_start + str_len > len(data):
        raise ObjectError("BTF section is truncated")
    return type_start, type_len, data[str_start : str_start + str_len]


def decode(
    data: bytes, base: list[t.BtfType] | None = None, base_strings_len: int = 0
) -> tuple[list[t.BtfType], bytes]:
    """Parse raw BTF; returns the types (``[Void()] +`` the section's) and strings.

    For split BTF (kernel modules) pass the base BTF's types and string length: type
    ids and string offsets then continue after the base's.
    """
    type_start, type_len, strings = sections(data)
    types: list[t.BtfType] = list(base) if base is not None else [t.Void()]

    def name_at(off: int) -> str:
        if off < base_strings_len:
            raise ObjectError(
                "split BTF names a base string; decode with the base strings"
            )
        return read_string(strings, off - base_strings_len)

    pos = type_start
    end = type_start + type_len
    try:
        while pos < end:
            item, pos = decode_type(data, pos, name_at)
            types.append(item)
    except struct.error as exc:
        raise ObjectError("BTF type section is truncated") from exc
    if pos != end:
        raise ObjectError(f"BTF type {len(types) - 1} runs past the type section")
    return types, strings


def decode_type(
    data: bytes, pos: int, name_at: Callable[[int], str]
) -> tuple[t.BtfType, int]:
    """The type record at byte ``pos`` of ``data`` and the position of the next one.

    Raises :class:`struct.error` when the record runs past the end of ``data``.
    """
    name_off, info, size_or_type = _TYPE.unpack_from(data, pos)
    vlen = info & 0xFFFF
    kind = (info >> 24) & 0x1F
    kind_flag = bool(info >> 31)
    name = name_at(name_off) if name_off else ""
    return _decode_one(
        data, pos + _TYPE.size, kind, kind_flag, vlen, name, size_or_type, name_at
    )


def _decode_one(
    data: bytes,
    pos: int,
    kind: int,
    kind_flag: bool,
    vlen: int,
    name: str,
    size_or_type: int,
    name_at: Callable[[int], str],
) -> tuple[t.BtfType, int]:
    if kind == t.Kind.INT:
        (raw,) = _U32.unpack_from(data, pos)
        enc = t.IntEncoding((raw >> 24) & 0xF)
        return t.Int(name, size_or_type, enc, (raw >> 16) & 0xFF, raw & 0xFF), pos + 4
    if kind == t.Kind.PTR:
        return t.Ptr(name, size_or_type), pos
    if kind == t.Kind.ARRAY:
        elem, index, nelems = _TRIPLE.unpack_from(data, pos)
        return t.Array(name, elem, index, nelems), pos + 12
    if kind in (t.Kind.STRUCT, t.Kind.UNION):
        members = []
        for _ in range(vlen):
            m_name, m_type, m_off = _TRIPLE.unpack_from(data, pos)
            pos += 12
            if kind_flag:
                bit_off, bf_size = m_off & 0xFFFFFF, m_off >> 24
            else:
                bit_off, bf_size = m_off, 0
            members.append(
                t.Member(name_at(m_name) if m_name else "", m_type, bit_off, bf_size)
            )
        cls = t.Struct if kind == t.Kind.STRUCT else t.Union
        return cls(name, size_or_type, members, kind_flag), pos
    if kind == t.Kind.ENUM:
        values = []
        for _ in range(vlen):
            v_name, v_val = (_ENUM_U if not kind_flag else _ENUM).unpack_from(data, pos)
            pos += 8
            values.append(t.EnumValue(name_at(v_name), v_val))
        return t.Enum(name, size_or_type, values, signed=kind_flag), pos
    if kind == t.Kind.ENUM64:
        values = []
        for _ in range(vlen):
            v_name, lo, hi = _TRIPLE.unpack_from(data, pos)
            pos += 12
            value = (hi << 32) | lo
            if kind_flag and value >= 1 << 63:
                value -= 1 << 64
            values.append(t.EnumValue(name_at(v_name), value))
        return t.Enum(name, size_or_type, values, signed=kind_flag, is64=True), pos
    if kind == t.Kind.FWD:
        return t.Fwd(name, kind_flag), pos
    if kind == t.Kind.TYPEDEF:
        return t.Typedef(name, size_or_type), pos
    if kind == t.Kind.VOLATILE:
        return t.Volatile(name, size_or_type), pos
    if kind == t.Kind.CONST:
        return t.Const(name, size_or_type), pos
    if kind == t.Kind.RESTRICT:
        return t.Restrict(name, size_or_type), pos
    if kind == t.Kind.TYPE_TAG:
        return t.TypeTag(name, size_or_type, kind_flag), pos
    if kind == t.Kind.FUNC:
        return t.Func(name, size_or_type, _linkage(t.FuncLinkage, vlen, name)), pos
    if kind == t.Kind.FUNC_PROTO:
        params = []
        for _ in range(vlen):
            p_name, p_type = _PAIR.unpack_from(data, pos)
            pos += 8
            params.append(t.Param(name_at(p_name) if p_name else "", p_type))
        return t.FuncProto(name, size_or_type, params), pos
    if kind == t.Kind.VAR:
        (linkage,) = _U32.unpack_from(data, pos)
        return t.Var(name, size_or_type, _linkage(t.VarLinkage, linkage, name)), pos + 4
    if kind == t.Kind.DATASEC:
        secinfos = []
        for _ in range(vlen):
            v_type, v_off, v_size = _TRIPLE.unpack_from(data, pos)
            pos += 12
            secinfos.append(t.VarSecinfo(v_type, v_off, v_size))
        return t.Datasec(name, size_or_type, secinfos), pos
    if kind == t.Kind.FLOAT:
        return t.Float(name, size_or_type), pos
    if kind == t.Kind.DECL_TAG:
        (component,) = struct.unpack_from("<i", data, pos)
        return t.DeclTag(name, size_or_type, component, kind_flag), pos + 4
    raise ObjectError(f"BTF holds a type of unknown kind {kind}")


LinkageT = TypeVar("LinkageT", t.FuncLinkage, t.VarLinkage)


def _linkage(kind: type[LinkageT], value: int, name: str) -> LinkageT:
    try:
        return kind(value)
    except ValueError:
        raise ObjectError(f"BTF {name!r} has an unknown linkage {value}") from None


def _info(kind: int, vlen: int = 0, kind_flag: bool = False) -> int:
    return (int(kind_flag) << 31) | (kind << 24) | vlen


def encode(types: Iterable[t.BtfType], strings: StringTable) -> bytes:
    """Encode types (without the leading ``Void``) into a BTF blob."""
    out = bytearray()
    s = strings.offset
    for item in types:
        name = s(item.name) if item.name else 0
        if isinstance(item, t.Int):
            out += _TYPE.pack(name, _info(t.Kind.INT), item.size)
            out += _U32.pack(
                (int(item.encoding) << 24) | (item.bit_offset << 16) | item.bits
            )
        elif isinstance(item, t.Ptr):
            out += _TYPE.pack(name, _info(t.Kind.PTR), item.type_id)
        elif isinstance(item, t.Array):
            out += _TYPE.pack(name, _info(t.Kind.ARRAY), 0)
            out += _TRIPLE.pack(item.elem_type, item.index_type, item.nelems)
        elif isinstance(item, (t.Struct, t.Union)):
            flag = item.kind_flag or any(m.bitfield_size for m in item.members)
            out += _TYPE.pack(
                name, _info(item.kind, len(item.members), flag), item.size
            )
            for m in item.members:
                off = (m.bitfield_size << 24) | m.bit_offset if flag else m.bit_offset
                out += _TRIPLE.pack(s(m.name) if m.name else 0, m.type_id, off)
        elif isinstance(item, t.Enum):
            out += _TYPE.pack(
                name, _info(item.kind, len(item.values), item.signed), item.size
            )
            for v in item.values:
                if item.is64:
                    raw = v.value & 0xFFFFFFFFFFFFFFFF
                    out += _TRIPLE.pack(s(v.name), raw & 0xFFFFFFFF, raw >> 32)
                else:
                    out += _ENUM_U.pack(s(v.name), v.value & 0xFFFFFFFF)
        elif isinstance(item, t.Fwd):
            out += _TYPE.pack(name, _info(t.Kind.FWD, 0, item.is_union), 0)
        elif isinstance(item, t.TypeTag):
            out += _TYPE.pack(
                name, _info(t.Kind.TYPE_TAG, 0, item.kind_flag), item.type_id
            )
        elif isinstance(item, (t.Typedef, t.Volatile, t.Const, t.Restrict)):
            out += _TYPE.pack(name, _info(item.kind), item.type_id)
        elif isinstance(item, t.Func):
            out += _TYPE.pack(name, _info(t.Kind.FUNC, int(item.linkage)), item.type_id)
        elif isinstance(item, t.FuncProto):
            out += _TYPE.pack(
                name, _info(t.Kind.FUNC_PROTO, len(item.params)), item.return_type
            )
            for p in item.params:
                out += _PAIR.pack(s(p.name) if p.name else 0, p.type_id)
        elif isinstance(item, t.Var):
            out += _TYPE.pack(name, _info(t.Kind.VAR), item.type_id)
            out += _U32.pack(int(item.linkage))
        elif isinstance(item, t.Datasec):
            out += _TYPE.pack(name, _info(t.Kind.DATASEC, len(item.vars)), item.size)
            for secinfo in item.vars:
                out += _TRIPLE.pack(secinfo.type_id, secinfo.offset, secinfo.size)
        elif isinstance(item, t.Float):
            out += _TYPE.pack(name, _info(t.Kind.FLOAT), item.size)
        elif isinstance(item, t.DeclTag):
            out += _TYPE.pack(
                name, _info(t.Kind.DECL_TAG, 0, item.kind_flag), item.type_id
            )
            out += struct.pack("<i", item.component_idx)
        else:
            raise TypeError(f"cannot encode {item!r}")
    string_bytes = strings.to_bytes()
    header = _HEADER.pack(
        BTF_MAGIC, 1, 0, _HEADER.size, 0, len(out), len(out), len(string_bytes)
    )
    return header + bytes(out) + string_bytes
