"""The ``.note.stapsdt`` section: one ELF note per USDT probe site.

Each note (owner ``stapsdt``, type 3) describes one probe: three link-time addresses
(the probe's ``nop``, the ``.stapsdt.base`` section, the semaphore or 0) followed by
three NUL-terminated strings (provider, name, argument locations).  The format is
SystemTap's; the checks are libbpf's ``parse_usdt_note()``.
"""

from __future__ import annotations

import errno

from ..errors import AttachError
from ..lean.records import dataclass

NOTE_SECTION = ".note.stapsdt"
NOTE_OWNER = b"stapsdt"
NOTE_TYPE = 3
_HEADER_SIZE = 12  # n_namesz, n_descsz, n_type


@dataclass(frozen=True)
class Note:
    """One probe site as the note records it (addresses before any adjustment)."""

    provider: str
    name: str
    args: str  # argument locations, e.g. "-4@%esi 8@-16(%rbp)"; "" without arguments
    location: int  # link-time address of the probe's nop
    base: int  # link-time address of .stapsdt.base, 0 if not recorded
    semaphore: int  # link-time address of the 2-byte semaphore, 0 if none


def _malformed(why: str) -> AttachError:
    return AttachError(f"malformed {NOTE_SECTION} note: {why}", errno=errno.ENOEXEC)


def _align(value: int, alignment: int) -> int:
    return (value + alignment - 1) & -alignment


def _decode(raw: bytes) -> str:
    # Names come from C source; keep any stray byte round-trippable.
    return raw.decode("utf-8", "surrogateescape")


def parse_description(desc: bytes, address_size: int = 8) -> Note:
    """The description of one ``stapsdt`` note (little-endian addresses)."""
    addresses = 3 * address_size
    # Three addresses and three strings, each at least a NUL.
    if len(desc) < addresses + 3:
        raise _malformed(f"description of {len(desc)} bytes is too short")
    location, base, semaphore = (
        int.from_bytes(desc[i : i + address_size], "little")
        for i in range(0, addresses, address_size)
    )
    strings = desc[addresses:].split(b"\0", 3)
    if len(strings) < 4:  # fewer than three NULs
        raise _malformed("provider, name and arguments must each end with a NUL")
    provider, name, args = strings[:3]
    if not name:
        raise _malformed(f"probe of provider {_decode(provider)!r} has no name")
    # libbpf takes an argument string starting with ':' as no arguments.
    if args.startswith(b":"):
        args = b""
    return Note(
        _decode(provider), _decode(name), _decode(args), location, base, semaphore
    )


def parse_notes(data: bytes, alignment: int = 4, address_size: int = 8) -> list[Note]:
    """Every ``stapsdt`` note of a note section's bytes, in order; notes of other
    owners or types are skipped.  ``alignment`` is the section's (4, or 8 when its
    ``sh_addralign`` is 8, as libelf reads notes)."""
    notes = []
    position = 0
    while position < len(data):
        if len(data) - position < _HEADER_SIZE:
            raise _malformed(f"truncated header at offset {position}")
        namesz, descsz, note_type = (
            int.from_bytes(data[position + i : position + i + 4], "little")
            for i in (0, 4, 8)
        )
        name_start = position + _HEADER_SIZE
        desc_start = name_start + _align(namesz, alignment)
        end = desc_start + _align(descsz, alignment)
        if desc_start + descsz > len(data):
            raise _malformed(f"note at offset {position} runs past the section end")
        owner = data[name_start : name_start + namesz].rstrip(b"\0")
        if owner == NOTE_OWNER and note_type == NOTE_TYPE:
            notes.append(
                parse_description(data[desc_start : desc_start + descsz], address_size)
            )
        position = end
    return notes
