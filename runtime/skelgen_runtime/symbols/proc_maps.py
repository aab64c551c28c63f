"""``/proc/PID/maps``: what a process has mapped where.  Parsing is pure."""

from __future__ import annotations

from ..lean.records import dataclass

_DELETED = " (deleted)"


@dataclass(frozen=True)
class Mapping:
    """One line: addresses ``start .. end`` show ``path`` from file ``offset`` on."""

    start: int
    end: int
    perms: str  # "r-xp"
    offset: int
    inode: int
    path: str  # a file, "[vdso]", "[heap]", or "" (anonymous)
    deleted: bool = False  # the file was removed or replaced since it was mapped

    @property
    def is_file(self) -> bool:
        return self.inode != 0 and self.path.startswith("/")


def parse_maps(text: str) -> list[Mapping]:
    """The mappings of a maps file, sorted by address (malformed lines skipped)."""
    mappings = []
    for line in text.splitlines():
        fields = line.split(maxsplit=5)
        if len(fields) < 5:
            continue
        addresses, perms, offset, _device, inode = fields[:5]
        path = fields[5] if len(fields) == 6 else ""
        deleted = path.endswith(_DELETED)
        if deleted:
            path = path[: -len(_DELETED)]
        start, _, end = addresses.partition("-")
        try:
            mappings.append(
                Mapping(
                    int(start, 16),
                    int(end, 16),
                    perms,
                    int(offset, 16),
                    int(inode),
                    path,
                    deleted,
                )
            )
        except ValueError:
            continue
    mappings.sort(key=lambda m: m.start)
    return mappings
