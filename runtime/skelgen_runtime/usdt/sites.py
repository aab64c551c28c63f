"""Where a USDT probe's uprobes go: its notes turned into file offsets.

A uprobe is placed by file offset, and a semaphore is handed to the kernel by file
offset too (``ref_ctr_offset``), while notes record link-time addresses.  The rules
are libbpf's ``collect_usdt_targets()``: addresses are first shifted by however far
prelink moved ``.stapsdt.base``, then mapped through the PT_LOAD segment holding
them (executable for the probe, not executable for the semaphore).
"""

from __future__ import annotations

import errno
from collections.abc import Sequence

from elftools.elf.elffile import ELFFile

from ..errors import AttachError
from ..lean.hints import BinaryIO
from ..lean.records import dataclass
from ..obj.elf import CORRUPT_ELF_ERRORS
from .notes import NOTE_SECTION, Note, parse_notes

BASE_SECTION = ".stapsdt.base"
_PF_X = 1


@dataclass(frozen=True)
class Segment:
    """A loaded range: ``[start, end)`` in memory, from file offset ``offset``."""

    start: int
    end: int
    offset: int
    executable: bool

    def holds_address(self, address: int) -> bool:
        return self.start <= address < self.end

    def holds_offset(self, offset: int) -> bool:
        return self.offset <= offset < self.offset + (self.end - self.start)


@dataclass(frozen=True)
class Site:
    """One place a probe fires, ready for a uprobe."""

    note: Note
    address: int  # link-time address (absolute for ET_EXEC, load-relative for ET_DYN)
    offset: int  # file offset of the probe's nop
    semaphore_offset: int  # file offset of the semaphore, 0 if none


@dataclass(frozen=True)
class UsdtBinary:
    """What a binary says about its USDT probes."""

    path: str
    shared: bool  # ET_DYN (a library or a PIE): loaded at a base only a process knows
    notes: Sequence[Note]
    segments: Sequence[Segment]  # PT_LOAD, by address
    base: int  # sh_addr of .stapsdt.base, 0 without one

    def sites(self, provider: str, name: str) -> list[Site]:
        """The sites of probe ``provider:name``, in note order."""
        sites = [
            self._site(note)
            for note in self.notes
            if note.provider == provider and note.name == name
        ]
        if not sites:
            raise AttachError(
                f"no USDT probe {provider}:{name} in {self.path}", errno=errno.ENOENT
            )
        return sites

    def _site(self, note: Note) -> Site:
        shift = self.base - note.base if self.base and note.base else 0
        address = note.location + shift
        offset = self._offset(note, address, "probe", executable=True)
        semaphore = 0
        if note.semaphore:
            semaphore = self._offset(
                note, note.semaphore + shift, "semaphore", executable=False
            )
        return Site(note, address, offset, semaphore)

    def _offset(self, note: Note, address: int, what: str, executable: bool) -> int:
        probe = f"{note.provider}:{note.name}"
        segment = next((s for s in self.segments if s.holds_address(address)), None)
        if segment is None:
            raise AttachError(
                f"USDT {probe} in {self.path}: no loaded segment holds its {what} "
                f"address {address:#x}",
                errno=errno.ESRCH,
            )
        if segment.executable != executable:
            state = "executable" if segment.executable else "not executable"
            raise AttachError(
                f"USDT {probe} in {self.path}: the segment holding its {what} "
                f"address {address:#x} is {state}",
                errno=errno.ESRCH,
            )
        return address - segment.start + segment.offset


def _unusable(path: str, why: str) -> AttachError:
    return AttachError(f"USDT binary {path}: {why}", errno=errno.ENOEXEC)


def read_binary(stream: BinaryIO, path: str) -> UsdtBinary:
    """The notes, segments and ``.stapsdt.base`` of the ELF file in ``stream``."""
    try:
        elf = ELFFile(stream)
        if elf.elfclass != 64 or not elf.little_endian:
            raise _unusable(path, "only 64-bit little-endian ELF files are supported")
        if elf["e_type"] not in ("ET_EXEC", "ET_DYN"):
            raise _unusable(
                path, f"an {elf['e_type']} file is not a program or library"
            )
        notes_section = elf.get_section_by_name(NOTE_SECTION)
        if notes_section is None:
            raise AttachError(
                f"USDT binary {path} has no USDT probes (no {NOTE_SECTION} section)",
                errno=errno.ENOENT,
            )
        if notes_section["sh_type"] != "SHT_NOTE":
            raise _unusable(path, f"{NOTE_SECTION} is not a note section")
        alignment = 8 if notes_section["sh_addralign"] == 8 else 4
        notes = parse_notes(notes_section.data(), alignment)
        base_section = elf.get_section_by_name(BASE_SECTION)
        segments = sorted(
            (
                Segment(
                    s["p_vaddr"],
                    s["p_vaddr"] + s["p_memsz"],
                    s["p_offset"],
                    bool(s["p_flags"] & _PF_X),
                )
                for s in elf.iter_segments("PT_LOAD")
            ),
            key=lambda s: s.start,
        )
        shared = elf["e_type"] == "ET_DYN"
    except CORRUPT_ELF_ERRORS as exc:
        raise _unusable(path, f"not a usable ELF file: {exc}") from None
    if not segments:
        raise _unusable(path, "no PT_LOAD segments")
    base = base_section["sh_addr"] if base_section is not None else 0
    return UsdtBinary(path, shared, notes, segments, base)


def mapped_segments(maps: str, path: str) -> list[Segment]:
    """The executable mappings of file ``path`` in a ``/proc/PID/maps`` listing."""
    segments = []
    for line in maps.splitlines():
        fields = line.split(maxsplit=5)
        if len(fields) < 6 or fields[5] != path or fields[1][2:3] != "x":
            continue
        start, _, end = fields[0].partition("-")
        segments.append(Segment(int(start, 16), int(end, 16), int(fields[2], 16), True))
    return sorted(segments, key=lambda s: s.start)


def absolute_address(segments: Sequence[Segment], offset: int) -> int | None:
    """The address file offset ``offset`` is mapped at, given a process's mappings of
    the file; None when it is not mapped."""
    for segment in segments:
        if segment.holds_offset(offset):
            return segment.start - segment.offset + offset
    return None
