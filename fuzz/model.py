"""The fuzzer's own view of an ELF object and its BTF: raw fields, no validation.

Unlike the runtime's reader, this model keeps every field as the integer the file
holds, so that a mutation can put any value anywhere (a type id that points at its
own record, a ``vlen`` that lies, a section larger than the file) and the object
still serialises.  Layout is recomputed on :meth:`Elf.to_bytes`; *post-layout*
overrides then overwrite header fields with values no layout would produce.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass, field

EHDR = struct.Struct("<16sHHIQQQIHHHHHH")
SHDR = struct.Struct("<IIQQQQIIQQ")
SYM = struct.Struct("<IBBHQQ")
REL = struct.Struct("<QQ")
BTF_HEADER = struct.Struct("<HBBIIIII")
EXT_HEADER = struct.Struct("<HBBIIIIIII")

# ELF header fields (index into the EHDR tuple) and section header fields
E_SHOFF, E_SHENTSIZE, E_SHNUM, E_SHSTRNDX = 6, 11, 12, 13
SH_NAME, SH_TYPE, SH_FLAGS, SH_OFFSET, SH_SIZE, SH_LINK, SH_INFO, SH_ADDRALIGN = (
    0,
    1,
    2,
    4,
    5,
    6,
    7,
    8,
)
SHT_SYMTAB, SHT_STRTAB, SHT_REL, SHT_NOBITS = 2, 3, 9, 8
_LAYOUT_ALIGN = 8  # sections are laid out 8-aligned whatever sh_addralign says
_WIDTH = {"B": 8, "H": 16, "I": 32, "Q": 64}


def pack(layout: struct.Struct, values: Sequence[object]) -> bytes:
    """``layout.pack`` with each integer cut to its field's width (a mutation may
    step past it)."""
    codes = [c for c in layout.format.lstrip("<") if not c.isdigit()]
    fixed = [
        v & ((1 << _WIDTH[c]) - 1) if isinstance(v, int) and c in _WIDTH else v
        for c, v in zip(codes, values, strict=True)
    ]
    return layout.pack(*fixed)


@dataclass
class Section:
    header: list[int]  # the 10 SHDR fields; offset is recomputed on layout
    data: bytes

    @property
    def type(self) -> int:
        return self.header[SH_TYPE]


@dataclass
class Elf:
    ident: bytes
    ehdr: list[int]  # EHDR fields after e_ident
    sections: list[Section]
    # applied after layout: ELF header fields, (section, field) → value
    post_ehdr: dict[int, int] = field(default_factory=dict)
    post_shdr: dict[tuple[int, int], int] = field(default_factory=dict)
    truncate: int | None = None
    patches: list[tuple[int, bytes]] = field(default_factory=list)  # file offset, bytes

    @classmethod
    def parse(cls, data: bytes) -> Elf:
        fields = list(EHDR.unpack_from(data))
        shoff, shentsize, shnum = fields[E_SHOFF], fields[E_SHENTSIZE], fields[E_SHNUM]
        sections = []
        for i in range(shnum):
            header = list(SHDR.unpack_from(data, shoff + i * shentsize))
            body = (
                b""
                if header[SH_TYPE] == SHT_NOBITS
                else data[header[SH_OFFSET] : header[SH_OFFSET] + header[SH_SIZE]]
            )
            sections.append(Section(header, body))
        return cls(fields[0], fields[1:], sections)

    def copy(self) -> Elf:
        return Elf(
            self.ident,
            list(self.ehdr),
            [Section(list(s.header), s.data) for s in self.sections],
        )

    # -- names ------------------------------------------------------------------------

    @property
    def shstrndx(self) -> int:
        return self.ehdr[E_SHSTRNDX - 1]

    def name(self, index: int) -> bytes:
        names = self.sections[self.shstrndx].data
        start = self.sections[index].header[SH_NAME]
        end = names.find(b"\0", start)
        return names[start:end] if end >= 0 else names[start:]

    def find(self, name: bytes) -> int:
        """Index of the first section called ``name``, or -1."""
        for i in range(1, len(self.sections)):
            if self.name(i) == name:
                return i
        return -1

    def add_string(self, table: int, text: bytes) -> int:
        """Append ``text`` to string-table section ``table``; its offset there."""
        section = self.sections[table]
        offset = len(section.data)
        section.data += text + b"\0"
        section.header[SH_SIZE] = len(section.data)
        return offset

    def set_data(self, index: int, data: bytes) -> None:
        section = self.sections[index]
        section.data = data
        section.header[SH_SIZE] = len(data)

    # -- bytes ------------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        out = bytearray(EHDR.size)
        headers = []
        for index, section in enumerate(self.sections):
            header = list(section.header)
            if index == 0:
                pass  # the null section
            elif section.type == SHT_NOBITS:
                header[SH_OFFSET] = len(out)  # its size is the zero-filled memory's
            else:
                out += bytes(-len(out) % _LAYOUT_ALIGN)
                header[SH_OFFSET] = len(out)
                header[SH_SIZE] = len(section.data)
                out += section.data
            headers.append(header)
        out += bytes(-len(out) % 8)
        ehdr = [self.ident, *self.ehdr]
        ehdr[E_SHOFF] = len(out)
        ehdr[E_SHENTSIZE] = SHDR.size
        ehdr[E_SHNUM] = len(headers)
        for (index, name), value in self.post_shdr.items():
            if index < len(headers):
                headers[index][name] = value
        for name, value in self.post_ehdr.items():
            ehdr[name] = value
        for header in headers:
            out += pack(SHDR, header)
        out[: EHDR.size] = pack(EHDR, ehdr)
        for offset, patch in self.patches:
            if offset < len(out):
                out[offset : offset + len(patch)] = patch
        if self.truncate is not None:
            del out[self.truncate :]
        return bytes(out)


# -- BTF -------------------------------------------------------------------------------

# Words after the 3-word header, fixed part and per vlen item, by kind (-1: unknown).
_FIXED = {1: 1, 3: 3, 14: 1, 17: 1}
_PER_ITEM = {4: 3, 5: 3, 6: 2, 13: 2, 15: 3, 19: 3}
KINDS = range(1, 20)
REF_KINDS = (2, 8, 9, 10, 11, 12, 14, 17, 18)  # size_type is a type id
MODIFIER_KINDS = (8, 9, 10, 11, 18)  # typedef, volatile, const, restrict, type_tag
STRUCT, UNION, ARRAY, TYPEDEF, DATASEC, INT = 4, 5, 3, 8, 15, 1


def kind_of(info: int) -> int:
    return (info >> 24) & 0x1F


def vlen_of(info: int) -> int:
    return info & 0xFFFF


def record_words(info: int) -> int:
    kind = kind_of(info)
    if kind == 0 or kind > 19:
        return -1
    return 3 + _FIXED.get(kind, 0) + _PER_ITEM.get(kind, 0) * vlen_of(info)


@dataclass
class Btf:
    """Raw ``.BTF``: header fields, records as lists of u32 words, the strings."""

    header: list[
        int
    ]  # magic, version, flags, hdr_len, type_off, type_len, str_off, str_len
    records: list[list[int]]  # records[i] is type id i + 1
    strings: bytes
    tail: bytes = b""  # type-section bytes after a record of unknown kind
    post_header: dict[int, int] = field(default_factory=dict)

    @classmethod
    def parse(cls, data: bytes) -> Btf | None:
        if len(data) < BTF_HEADER.size:
            return None
        header = list(BTF_HEADER.unpack_from(data))
        hdr_len, type_off, type_len, str_off, str_len = header[3:]
        types = data[hdr_len + type_off : hdr_len + type_off + type_len]
        strings = data[hdr_len + str_off : hdr_len + str_off + str_len]
        words = list(struct.unpack_from(f"<{len(types) // 4}I", types))
        records, pos = [], 0
        while pos + 3 <= len(words):
            size = record_words(words[pos + 1])
            if size < 0 or pos + size > len(words):
                break
            records.append(words[pos : pos + size])
            pos += size
        return cls(header, records, strings, types[4 * pos :])

    def copy(self) -> Btf:
        return Btf(
            list(self.header), [list(r) for r in self.records], self.strings, self.tail
        )

    def add_string(self, text: bytes) -> int:
        offset = len(self.strings)
        self.strings += text + b"\0"
        return offset

    def add(self, record: list[int]) -> int:
        """Append a record; its type id."""
        self.records.append(record)
        return len(self.records)

    def to_bytes(self) -> bytes:
        types = b"".join(
            struct.pack(f"<{len(r)}I", *(w & 0xFFFFFFFF for w in r))
            for r in self.records
        )
        types += self.tail
        header = list(self.header)
        header[3] = BTF_HEADER.size
        header[4], header[5] = 0, len(types)
        header[6], header[7] = len(types), len(self.strings)
        for index, value in self.post_header.items():
            header[index] = value
        return pack(BTF_HEADER, header) + types + self.strings

    def type_refs(self, type_id: int) -> list[int]:
        """Word positions in record ``type_id`` that hold type ids."""
        record = self.records[type_id - 1]
        kind, vlen = kind_of(record[1]), vlen_of(record[1])
        present = len(record)
        if kind in REF_KINDS:
            out = [2]
        elif kind == ARRAY:
            out = [3, 4]
        elif kind in (STRUCT, UNION):
            out = [3 + 3 * k + 1 for k in range(vlen)]
        elif kind == 13:
            out = [2] + [3 + 2 * k + 1 for k in range(vlen)]
        elif kind == DATASEC:
            out = [3 + 3 * k for k in range(vlen)]
        else:
            out = []
        return [p for p in out if p < present]

    def name_refs(self, type_id: int) -> list[int]:
        """Word positions in record ``type_id`` that hold string offsets."""
        record = self.records[type_id - 1]
        kind, vlen = kind_of(record[1]), vlen_of(record[1])
        per_item = {STRUCT: 3, UNION: 3, 6: 2, 19: 3, 13: 2}.get(kind)
        out = [0]
        if per_item:
            out += [3 + per_item * k for k in range(vlen)]
        return [p for p in out if p < len(record)]


# -- .BTF.ext -------------------------------------------------------------------------


def ext_records(data: bytes) -> list[tuple[str, int, int]]:
    """(block, byte offset, record size) of every record of a ``.BTF.ext``;
    block is ``func``, ``line`` or ``core``."""
    if len(data) < BTF_HEADER.size:
        return []
    _, _, _, hdr_len, fi_off, fi_len, li_off, li_len = BTF_HEADER.unpack_from(data)
    blocks = [("func", fi_off, fi_len), ("line", li_off, li_len)]
    if hdr_len >= EXT_HEADER.size and len(data) >= EXT_HEADER.size:
        core_off, core_len = EXT_HEADER.unpack_from(data)[8:]
        blocks.append(("core", core_off, core_len))
    out = []
    for block, off, length in blocks:
        start, end = hdr_len + off, hdr_len + off + length
        if length < 4 or end > len(data):
            continue
        (rec_size,) = struct.unpack_from("<I", data, start)
        pos = start + 4
        while rec_size >= 8 and pos + 8 <= end:
            _, count = struct.unpack_from("<II", data, pos)
            pos += 8
            for _ in range(count):
                if pos + rec_size > end:
                    break
                out.append((block, pos, rec_size))
                pos += rec_size
            else:
                continue
            break
    return out


def strip_debug(elf: Elf) -> Elf:
    """Seeds without DWARF: small mutants, and nothing the tools read is lost."""
    out = elf.copy()
    for i, section in enumerate(out.sections):
        name = out.name(i)
        if name.startswith((b".debug", b".rel.debug")):
            section.data = b""
            section.header[SH_SIZE] = 0
    return out
