"""The object as embedded in a generated module: debug info dropped, compressed,
and its parsed spec beside it.

DWARF sections are emptied rather than removed, so section indexes — which symbols
and relocations refer to — stay valid without rewriting them.  The spec (what the
runtime's reader makes of the embedded object, packed by ``obj.packed``) is what a
skeleton opens: no ELF read, no BTF decoded, no ELF library imported at run time.
"""

from __future__ import annotations

import base64
import zlib

from skelgen_runtime.obj.elf import read_object
from skelgen_runtime.obj.elf_layout import (
    EHDR as _EHDR,
    SHDR as _SHDR,
    SHT_NOBITS,
    check_layout,
)
from skelgen_runtime.obj.packed import pack


def strip_debug(elf: bytes) -> bytes:
    """A copy of a 64-bit little-endian ELF without the contents of ``.debug*``
    sections and their relocations.  ``.BTF`` and ``.BTF.ext`` stay."""
    check_layout(elf)  # every offset, size, alignment and name used below is sane
    header = list(_EHDR.unpack_from(elf, 0))
    shoff, shentsize, shnum, shstrndx = header[6], header[11], header[12], header[13]
    sections = [
        list(_SHDR.unpack_from(elf, shoff + i * shentsize)) for i in range(shnum)
    ]
    names_hdr = sections[shstrndx]
    names = elf[names_hdr[4] : names_hdr[4] + names_hdr[5]]

    def name_of(sh: list[int]) -> str:
        end = names.index(b"\0", sh[0])
        return names[sh[0] : end].decode("ascii", "replace")

    out = bytearray(elf[: _EHDR.size])
    for sh in sections[1:]:
        name = name_of(sh)
        dropped = name.startswith((".debug", ".rel.debug", ".rela.debug"))
        if dropped:
            sh[1], sh[5] = SHT_NOBITS, 0  # type, size
        if sh[1] == SHT_NOBITS:
            sh[4] = len(out)  # offset: a NOBITS section occupies no file bytes
            continue
        align = max(sh[8], 1)
        out += bytes(-len(out) % align)
        data = elf[sh[4] : sh[4] + sh[5]]
        sh[4] = len(out)
        out += data
    out += bytes(-len(out) % 8)
    header[6] = len(out)
    out[: _EHDR.size] = _EHDR.pack(*header)
    for sh in sections:
        out += _SHDR.pack(*sh)
    return bytes(out)


def encode(elf: bytes) -> str:
    """Text for a bytes literal: zlib-compressed, base85."""
    return base64.b85encode(zlib.compress(elf, 9)).decode("ascii")


def decode(text: bytes) -> bytes:
    return zlib.decompress(base64.b85decode(text))


def packed_spec(stripped: bytes, name: str) -> bytes | None:
    """The spec of the object as embedded (``strip_debug``'s output), packed; None
    when it cannot be (the skeleton then reads the embedded object)."""
    return pack(read_object(stripped, name, origin=name))


def bytes_literals(data: bytes, width: int) -> list[str]:
    """``data`` as bytes literals of at most ``width`` characters each, to be
    written one after the other: Python joins them when it compiles the module, so
    importing it decodes nothing."""
    lines: list[str] = []
    start = 0
    while start < len(data):
        end = min(len(data), start + width // 4)  # \xNN: 4 characters a byte at most
        while end < len(data) and len(repr(data[start : end + 1])) <= width:
            end += 1
        lines.append(repr(data[start:end]))
        start = end
    return lines
