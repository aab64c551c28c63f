"""Memory of a global-data section that stays at one address for its whole life.

Before load it is private anonymous memory holding the section's initial bytes;
load maps the kernel's array map over the very same address (``MAP_FIXED``), as
libbpf does, so ctypes objects made earlier now read and write kernel memory with
no syscall.  Destroy puts private memory holding the last values back in place, so
a stale reference reads old values instead of crashing.  The memory is unmapped
when the last Python reference goes.

A kernel without ``BPF_F_MMAPABLE`` (before 5.5) cannot map the array: the memory
then stays a private copy, as libbpf keeps one, and :meth:`read` and :meth:`write`
go through the map (lookup and update of its one element).  A skeleton refreshes
the copy each time its section attribute is read and sends each field assignment
(``skel.bss.x = 1``) to the kernel (see docs/kernels.md).
"""

from __future__ import annotations

import ctypes
import weakref
from collections.abc import Callable

from ..errors import MapError, ObjectError, describe_errno
from ..sys import commands as cmd, syscall as sc
from ..sys.syscall import PAGE_SIZE


def _round_up(size: int) -> int:
    return max(PAGE_SIZE, (size + PAGE_SIZE - 1) // PAGE_SIZE * PAGE_SIZE)


class SectionMemory:
    """``size`` bytes at the fixed ``address``."""

    def __init__(self, initial: bytes | bytearray, size: int | None = None) -> None:
        self.size = len(initial) if size is None else size
        self.mapped_size = _round_up(self.size)
        try:  # anonymous memory: pages are only allocated once they are touched
            self.address = sc.mmap(
                None,
                self.mapped_size,
                sc.PROT_READ | sc.PROT_WRITE,
                sc.MAP_PRIVATE | sc.MAP_ANONYMOUS,
                -1,
                0,
            )
        except OSError as exc:
            raise ObjectError(
                f"cannot reserve {self.size} bytes for a global-data section: "
                f"{describe_errno(exc.errno or 0)}"
            ) from None
        self._finalizer = weakref.finalize(
            self, sc.munmap, self.address, self.mapped_size
        )
        # At exit the process unmaps everything anyway; unmapping earlier would pull
        # memory from under objects that are still being torn down.
        self._finalizer.atexit = False
        ctypes.memmove(
            self.address, bytes(initial[: self.size]), min(len(initial), self.size)
        )
        self.kernel_backed = False
        self.readonly = False
        self._map_fd: int | None = None  # the map read and written through

    @property
    def map_backed(self) -> bool:
        """A private copy kept in step with a map that cannot be mmap'd."""
        return self._map_fd is not None

    def read(self) -> bytes:
        self.refresh()
        return ctypes.string_at(self.address, self.size)

    def write(self, data: bytes) -> None:
        if len(data) > self.size:
            raise ValueError(f"{len(data)} bytes do not fit in {self.size}")
        ctypes.memmove(self.address, data, len(data))
        self.flush()

    def follow_map(self, map_fd: int, readonly: bool) -> None:
        """Keep this copy and go through the map ``map_fd`` from now on (a kernel
        that cannot mmap it)."""
        self._map_fd = map_fd
        self.readonly = readonly

    def refresh(self) -> None:
        """Copy the map's value over the private copy (a map-backed memory only)."""
        if self._map_fd is not None:
            self._element(cmd.map_lookup, "read")

    def flush(self) -> None:
        """Send the private copy to the map (a map-backed memory only)."""
        if self._map_fd is not None:
            self._element(cmd.map_update, "write")

    def _element(self, operation: Callable[[int, int, int], None], what: str) -> None:
        assert self._map_fd is not None
        key = ctypes.c_uint32(0)
        try:
            operation(self._map_fd, ctypes.addressof(key), self.address)
        except OSError as exc:
            raise MapError(
                f"{what} a global-data section through its map: "
                f"{describe_errno(exc.errno or 0)}",
                errno=exc.errno or 0,
            ) from None

    def map_kernel(self, map_fd: int, readonly: bool) -> None:
        """Put the kernel map's memory at this address."""
        prot = sc.PROT_READ if readonly else sc.PROT_READ | sc.PROT_WRITE
        sc.mmap(
            self.address,
            self.mapped_size,
            prot,
            sc.MAP_SHARED | sc.MAP_FIXED,
            map_fd,
            0,
        )
        self.kernel_backed = True
        self.readonly = readonly

    def unmap_kernel(self) -> None:
        """Replace the kernel mapping by private memory with the same bytes (or, for
        a map-backed memory, take the map's last value and stop following it)."""
        if not self._finalizer.alive:
            # Already unmapped: the garbage collector can run this memory's
            # finalizer before the __del__ of the object that destroys it.
            return
        if self._map_fd is not None:
            self.refresh()
            self._map_fd = None
            return
        if not self.kernel_backed:
            return
        snapshot = self.read()
        sc.mmap(
            self.address,
            self.mapped_size,
            sc.PROT_READ | sc.PROT_WRITE,
            sc.MAP_PRIVATE | sc.MAP_ANONYMOUS | sc.MAP_FIXED,
            -1,
            0,
        )
        self.write(snapshot)
        self.kernel_backed = False
