"""Kernel addresses to names through ``/proc/kallsyms`` (bcc's ``ksym``).

The file is read once, when the first address is looked up; :func:`ksym` keeps the
table for the process (modules loaded later need a new :class:`KernelSymbols`).
"""

from __future__ import annotations

import functools
import re

from ..errors import SymbolError
from .table import Symbol, SymbolTable, TableEntry

KALLSYMS = "/proc/kallsyms"
# "ffffffffc0a01000 t name\t[module]"; absolute symbols (a, A) are not code.
_LINE = re.compile(rb"^([0-9a-fA-F]+) ([b-zB-Z]) (\S+)(?:\t\[(\S+)\])?$", re.MULTILINE)


def parse_kallsyms(text: bytes) -> SymbolTable:
    """The symbols of kallsyms-format ``text`` (the first listed of an address wins).

    A table whose every address is zero means the kernel hides them
    (``kernel.kptr_restrict``, a process without CAP_SYSLOG): an error, not a table
    that names every address after one symbol."""
    entries = [
        TableEntry(int(address, 16), 0, name.decode(), module.decode() or None)
        for address, _kind, name, module in _LINE.findall(text)
    ]
    if entries and not any(e.start for e in entries):
        raise SymbolError(
            f"{KALLSYMS} shows every address as 0: run as root, or lower "
            "kernel.kptr_restrict"
        )
    return SymbolTable(e for e in entries if e.start)


class KernelSymbols:
    """The kernel's symbols, read from ``/proc/kallsyms`` on first use."""

    def __init__(self, path: str = KALLSYMS) -> None:
        self.path = path

    @functools.cached_property
    def table(self) -> SymbolTable:
        try:
            with open(self.path, "rb") as f:
                text = f.read()
        except OSError as exc:
            raise SymbolError(f"{self.path}: {exc.strerror}") from None
        return parse_kallsyms(text)

    def lookup(self, address: int) -> Symbol | None:
        """The symbol ``address`` falls in (``module`` None for vmlinux), or None."""
        return self.table.lookup(address)

    def address(self, name: str) -> int | None:
        """The address of kernel symbol ``name`` (bcc's ``ksymname``), or None."""
        return self.table.address(name)

    def name(self, address: int, *, offset: bool = False, module: bool = False) -> str:
        """``address`` as text: ``"do_sys_openat2"``, with ``offset``
        ``"do_sys_openat2+0x5a"``, with ``module`` ``"... [kernel]"``;
        ``"[unknown]"`` when no symbol has it."""
        found = self.lookup(address)
        return (
            "[unknown]" if found is None else found.format(offset=offset, module=module)
        )


@functools.cache
def _kernel_symbols() -> KernelSymbols:
    return KernelSymbols()


def ksym(address: int, *, offset: bool = False, module: bool = False) -> str:
    """The kernel symbol of ``address``, as bcc's ``BPF.ksym`` gives it: ``"name"``
    (``"name+0x1a"`` with ``offset``, ``"name [module]"`` with ``module``), or
    ``"[unknown]"``.  Raises :class:`SymbolError` if kallsyms cannot be read or
    hides its addresses."""
    return _kernel_symbols().name(address, offset=offset, module=module)
