"""The functions of an ELF file (executable or shared library) by address.

Symbols come from ``.symtab`` and ``.dynsym`` (a stripped file keeps the latter);
when a file has no ``.symtab`` and a separate debug file is installed under
``/usr/lib/debug/.build-id/`` (Debian's ``*-dbg``/``-dbgsym`` packages), that file's
are used too.  Addresses are the file's own virtual addresses: :meth:`to_vaddr`
turns a file offset (what ``/proc/PID/maps`` gives) into one, which is how a PIE or
a shared library loaded anywhere is symbolized.
"""

from __future__ import annotations

import os
import struct
import threading
from collections import OrderedDict
from collections.abc import Iterator

from elftools.elf.elffile import ELFFile
from elftools.elf.sections import NoteSection, SymbolTableSection

from ..lean.hints import BinaryIO
from ..lean.records import dataclass
from ..obj.elf import CORRUPT_ELF_ERRORS
from .table import SymbolTable, TableEntry

DEBUG_ROOT = "/usr/lib/debug/.build-id"
_FUNCTION_TYPES = (2, 10)  # STT_FUNC, STT_GNU_IFUNC
_SHN_UNDEF = 0
# At one address, the name shown is a sized function's, one without a leading
# underscore (getpid, not __getpid), global before weak before local.
_BINDING_RANK = {1: 0, 2: 1, 0: 2}  # STB_GLOBAL, STB_WEAK, STB_LOCAL
_RawSymbol = tuple[str, int, int, int, int]


@dataclass(frozen=True)
class Segment:
    """A ``PT_LOAD`` segment: file bytes ``offset .. offset+size`` at ``vaddr``."""

    offset: int
    vaddr: int
    size: int


@dataclass(frozen=True)
class ElfSymbols:
    """The functions of one ELF file and the segments that place them."""

    table: SymbolTable
    segments: tuple[Segment, ...]
    build_id: str | None

    def to_vaddr(self, file_offset: int) -> int | None:
        """The virtual address of the byte at ``file_offset``, or None if no loaded
        segment holds it."""
        for segment in self.segments:
            if segment.offset <= file_offset < segment.offset + segment.size:
                return file_offset - segment.offset + segment.vaddr
        return None


def _build_id(elf: ELFFile) -> str | None:
    for section in elf.iter_sections():
        if isinstance(section, NoteSection):
            for note in section.iter_notes():
                if note["n_type"] == "NT_GNU_BUILD_ID":
                    return str(note["n_desc"])
    return None


def _raw_symbols(elf: ELFFile, table: SymbolTableSection) -> Iterator[_RawSymbol]:
    """(name, value, size, info, shndx) of each symbol, unpacked in bulk: pyelftools
    parses one symbol at a time, 100 times slower on a libc."""
    strings = elf.get_section(table["sh_link"]).data()
    order = "<" if elf.little_endian else ">"
    if elf.elfclass == 64:
        layout, fields = f"{order}IBBHQQ", (
            0,
            4,
            5,
            1,
            3,
        )  # name, value, size, info, shndx
    else:
        layout, fields = f"{order}IIIBBH", (0, 1, 2, 3, 5)
    data = table.data()
    entry_size = struct.calcsize(layout)
    usable = len(data) - len(data) % entry_size
    for raw in struct.iter_unpack(layout, data[:usable]):
        name_at, value, size, info, shndx = (raw[i] for i in fields)
        end = strings.find(b"\0", name_at)
        name = strings[name_at : end if end >= 0 else len(strings)]
        yield name.decode("utf-8", "replace"), value, size, info, shndx


def _functions(elf: ELFFile) -> list[tuple[tuple[int, ...], TableEntry]]:
    """(preference, entry) for each defined function of the file's symbol tables."""
    found: list[tuple[tuple[int, ...], TableEntry]] = []
    for order, table_name in enumerate((".symtab", ".dynsym")):
        table = elf.get_section_by_name(table_name)
        if not isinstance(table, SymbolTableSection):
            continue
        for position, (name, value, size, info, shndx) in enumerate(
            _raw_symbols(elf, table)
        ):
            if info & 0xF not in _FUNCTION_TYPES or shndx == _SHN_UNDEF or not value:
                continue
            name = name.split("@", 1)[0]  # "memcpy@@GLIBC_2.14" → "memcpy"
            if not name:
                continue
            rank = (
                size == 0,
                name.startswith("_"),  # getpid before its alias __getpid
                _BINDING_RANK.get(info >> 4, 3),
                order,
                position,
            )
            found.append((rank, TableEntry(value, size, name)))
    return found


def read_elf_symbols(
    stream: BinaryIO, debug_root: str | None = DEBUG_ROOT
) -> ElfSymbols:
    """The functions of the ELF file in ``stream`` (a corrupt file raises one of
    ``obj.elf.CORRUPT_ELF_ERRORS``); ``debug_root`` None: no separate debug file."""
    elf = ELFFile(stream)
    segments = tuple(
        Segment(s["p_offset"], s["p_vaddr"], s["p_filesz"])
        for s in elf.iter_segments("PT_LOAD")
    )
    build_id = _build_id(elf)
    functions = _functions(elf)
    if build_id and debug_root and elf.get_section_by_name(".symtab") is None:
        debug = os.path.join(debug_root, build_id[:2], build_id[2:] + ".debug")
        try:
            with open(debug, "rb") as f:
                functions += _functions(ELFFile(f))
        except (OSError, *CORRUPT_ELF_ERRORS):
            pass  # no debug file (the usual case), or an unusable one: skip it
    functions.sort(key=lambda item: item[0])
    return ElfSymbols(SymbolTable(e for _, e in functions), segments, build_id)


_CACHE_SIZE = 128
_cache: OrderedDict[tuple[int, int, int, int], ElfSymbols | None] = OrderedDict()
_cache_lock = threading.Lock()


def elf_symbols(path: str) -> ElfSymbols | None:
    """The functions of the file at ``path``, parsed once per file (device, inode,
    size and modification time: the same library seen through two processes'
    ``/proc/PID/root`` is one entry); None if it is not a readable ELF file."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    key = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    try:
        with open(path, "rb") as f:
            found: ElfSymbols | None = read_elf_symbols(f)
    except (OSError, *CORRUPT_ELF_ERRORS):
        found = None
    with _cache_lock:
        _cache[key] = found
        if len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return found
