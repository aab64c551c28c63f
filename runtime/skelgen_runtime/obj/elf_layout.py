"""Check an ELF file's header and section table against the file before anything
reads a section.  Pure: no syscalls.

Every size, offset, alignment, name and link a later step relies on is checked
here, so that a small file cannot make a reader allocate gigabytes or index past
a table, and each malformation gets a message saying what is wrong.
"""

from __future__ import annotations

import struct

from ..errors import ObjectError

EHDR = struct.Struct("<16sHHIQQQIHHHHHH")
SHDR = struct.Struct("<IIQQQQIIQQ")
SYM_SIZE = 24  # Elf64_Sym
REL_SIZE = 16  # Elf64_Rel
ELFCLASS64 = 2
ELFDATA2LSB = 1
SHT_SYMTAB, SHT_STRTAB, SHT_NOBITS, SHT_REL = 2, 3, 8, 9
# Alignment beyond a page means nothing in a relocatable BPF object, and a
# rewriter (the generator's debug stripper) pads to it.
MAX_ALIGN = 4096


def check_layout(data: bytes) -> None:
    """Raise :class:`ObjectError` unless ``data`` is a 64-bit little-endian ELF
    file whose section table and sections lie inside it."""
    if len(data) < EHDR.size or data[:4] != b"\x7fELF":
        raise ObjectError("not an ELF file")
    if data[4] != ELFCLASS64:
        raise ObjectError("not a 64-bit ELF file (BPF objects are ELF64)")
    if data[5] != ELFDATA2LSB:
        raise ObjectError("big-endian BPF objects are not supported on this host")
    fields = EHDR.unpack_from(data)
    shoff, shentsize, shnum, shstrndx = fields[6], fields[11], fields[12], fields[13]
    if shnum == 0:
        raise ObjectError("the ELF file has no section table")
    if shentsize != SHDR.size:
        raise ObjectError(f"ELF section headers are {shentsize} bytes, not {SHDR.size}")
    if shoff + shnum * SHDR.size > len(data):
        raise ObjectError("the ELF section table lies outside the file")
    if not 0 < shstrndx < shnum:
        raise ObjectError(f"ELF section-name table index {shstrndx} is out of range")
    headers = [SHDR.unpack_from(data, shoff + i * SHDR.size) for i in range(shnum)]
    for index, header in enumerate(headers[1:], start=1):
        _check_section(index, header, len(data), shnum)
    names = headers[shstrndx]
    if names[1] != SHT_STRTAB or names[5] == 0:
        raise ObjectError("the ELF section-name table is not a string table")
    name_end = names[4] + names[5]
    for index, header in enumerate(headers[1:], start=1):
        start = names[4] + header[0]
        if start >= name_end or data.find(b"\0", start, name_end) < 0:
            raise ObjectError(
                f"ELF section {index}: its name lies outside the name table"
            )


def _check_section(
    index: int, header: tuple[int, ...], file_size: int, shnum: int
) -> None:
    _, sh_type, _, _, offset, size, link, info, align, _ = header
    if sh_type != SHT_NOBITS and offset + size > file_size:
        raise ObjectError(
            f"ELF section {index}: {size} bytes at offset {offset} lie outside "
            f"the file ({file_size} bytes)"
        )
    if align & (align - 1) or align > MAX_ALIGN:
        raise ObjectError(
            f"ELF section {index}: alignment {align} is not a power of two "
            f"up to {MAX_ALIGN}"
        )
    if sh_type == SHT_SYMTAB:
        if size % SYM_SIZE or not 0 < link < shnum:
            raise ObjectError(f"ELF section {index}: a malformed symbol table")
    elif sh_type == SHT_REL and (
        size % REL_SIZE or not 0 < link < shnum or not 0 < info < shnum
    ):
        raise ObjectError(f"ELF section {index}: a malformed relocation section")
