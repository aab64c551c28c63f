"""User-space addresses to names (bcc's ``sym``): a process's memory map, then the
symbol tables of the files mapped there.

:class:`UserSymbols` reads the process's map when created (create it while the
process lives: the stacks of a process that has exited cannot be symbolized) and
reads it again when an address falls outside every mapping it knows (a library
loaded since; at most every half second).  Files are read through ``/proc/PID/root`` (a process in a container
sees its own files; after the process has exited, the same path in the caller's
root) and parsed when first needed, once per file (:mod:`.elf_symbols`).
"""

from __future__ import annotations

import bisect
import threading
import time
from collections import OrderedDict

from ..errors import SymbolError
from ..lean.records import replace
from .elf_symbols import elf_symbols
from .proc_maps import Mapping, parse_maps
from .table import Symbol, module_label

_RELOAD_INTERVAL = 0.5  # seconds


def read_maps(pid: int) -> list[Mapping]:
    path = f"/proc/{pid}/maps"
    try:
        with open(path) as f:
            return parse_maps(f.read())
    except FileNotFoundError:
        raise SymbolError(f"process {pid} does not exist (or has exited)") from None
    except OSError as exc:
        raise SymbolError(f"{path}: {exc.strerror}") from None


class UserSymbols:
    """The symbols of one process's address space."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self._load_maps()

    def _load_maps(self) -> None:
        self._loaded_at = time.monotonic()
        self._mappings = read_maps(self.pid)
        self._starts = [m.start for m in self._mappings]

    def mapping(self, address: int) -> Mapping | None:
        """The mapping that holds ``address``, or None.  When none does, the map is
        read again (a library loaded since), at most every half second: a stack's
        stray addresses do not each cost a read."""
        found = self._find(address)
        if found is None and time.monotonic() - self._loaded_at >= _RELOAD_INTERVAL:
            try:
                self._load_maps()
            except SymbolError:
                return None  # the process has gone: keep what was known
            found = self._find(address)
        return found

    def _find(self, address: int) -> Mapping | None:
        index = bisect.bisect_right(self._starts, address) - 1
        if index >= 0 and address < self._mappings[index].end:
            return self._mappings[index]
        return None

    def lookup(self, address: int) -> Symbol | None:
        """The function ``address`` falls in, its ``module`` the mapped file's path;
        None when no mapping holds it, the mapping is not a file, or no symbol of
        the file covers it."""
        mapping = self.mapping(address)
        if mapping is None or not mapping.is_file:
            return None
        # Through the process's root (a container's files); once the process has
        # gone, the same path in ours.
        symbols = elf_symbols(f"/proc/{self.pid}/root{mapping.path}") or elf_symbols(
            mapping.path
        )
        if symbols is None:
            return None
        vaddr = symbols.to_vaddr(address - mapping.start + mapping.offset)
        found = None if vaddr is None else symbols.table.lookup(vaddr)
        return None if found is None else replace(found, module=mapping.path)

    def name(self, address: int, *, offset: bool = False, module: bool = False) -> str:
        """``address`` as text: ``"main"``, ``"main+0x1a"`` with ``offset``,
        ``"main [app]"`` with ``module``; ``"[unknown]"`` (``"[unknown] [libfoo.so]"``)
        when no symbol has it."""
        found = self.lookup(address)
        if found is not None:
            return found.format(offset=offset, module=module)
        mapping = self.mapping(address) if module else None
        if mapping is not None and mapping.path:
            return f"[unknown] [{module_label(mapping.path)}]"
        return "[unknown]"


_PROCESSES = 64
_processes: OrderedDict[int, UserSymbols] = OrderedDict()
_processes_lock = threading.Lock()


def _for_pid(pid: int) -> UserSymbols:
    with _processes_lock:
        found = _processes.get(pid)
        if found is not None:
            _processes.move_to_end(pid)
            return found
    found = UserSymbols(pid)
    with _processes_lock:
        _processes[pid] = found
        if len(_processes) > _PROCESSES:
            _processes.popitem(last=False)
    return found


def sym(address: int, pid: int, *, offset: bool = False, module: bool = False) -> str:
    """The symbol of user-space ``address`` in process ``pid``, as bcc's ``BPF.sym``
    gives it: ``"name"``, ``"name+0x1a"`` with ``offset``, ``"name [libc.so.6]"``
    with ``module``, or ``"[unknown]"``.  The process's map is kept for the next
    calls (the last 64 processes); raises :class:`SymbolError` if the process is
    not there when first asked about."""
    return _for_pid(pid).name(address, offset=offset, module=module)
