"""A sorted symbol table: which symbol an address falls in, by bisection.  Pure."""

from __future__ import annotations

import bisect
from collections.abc import Iterable

from ..lean.hints import NamedTuple
from ..lean.records import dataclass

# How far back a lookup searches for a sized symbol that contains the address
# (symbols nested in others, e.g. a local label inside a function).
_NESTING = 8


@dataclass(frozen=True)
class Symbol:
    """What an address is: ``name+offset`` in ``module``."""

    name: str
    offset: int  # the address minus the symbol's start
    module: str | None = None  # a kernel module's name (None: vmlinux), or a file path

    def format(self, *, offset: bool = False, module: bool = False) -> str:
        """``"name"``, ``"name+0x1a"``, ``"name [module]"`` as bcc prints symbols
        (the module of a file is its base name; vmlinux is ``kernel``)."""
        text = self.name + (f"+{self.offset:#x}" if offset else "")
        if module:
            text += f" [{module_label(self.module)}]"
        return text


def module_label(module: str | None) -> str:
    """How a module is shown in brackets: a file's base name, ``kernel`` for None."""
    if module is None:
        return "kernel"
    return module.rsplit("/", 1)[-1]


class TableEntry(NamedTuple):
    """One symbol: ``size`` 0 means "up to the next symbol" (kallsyms records no
    sizes, assembly labels have none).  A tuple: kallsyms makes 100,000s of them."""

    start: int
    size: int
    name: str
    module: str | None = None


class SymbolTable:
    """Entries sorted by address, one per address (the first given wins: callers
    order duplicates by preference)."""

    def __init__(self, entries: Iterable[TableEntry]) -> None:
        unique: dict[int, TableEntry] = {}
        for entry in entries:
            unique.setdefault(entry.start, entry)
        self._entries = sorted(unique.values(), key=lambda e: e.start)
        self._starts = [e.start for e in self._entries]

    def __len__(self) -> int:
        return len(self._entries)

    def lookup(self, address: int) -> Symbol | None:
        """The symbol ``address`` falls in, or None: a sized symbol that contains it,
        else the nearest symbol before it if that one has no size."""
        index = bisect.bisect_right(self._starts, address) - 1
        if index < 0:
            return None
        nearest = self._entries[index]
        if nearest.size == 0:
            return Symbol(nearest.name, address - nearest.start, nearest.module)
        for at in range(index, max(index - _NESTING, -1), -1):
            entry = self._entries[at]
            if entry.size and address < entry.start + entry.size:
                return Symbol(entry.name, address - entry.start, entry.module)
        return None

    def address(self, name: str) -> int | None:
        """The address of the first symbol called ``name`` (linear: for rare use)."""
        for entry in self._entries:
            if entry.name == name:
                return entry.start
        return None
