"""Memory of a global-data section that stays at one address for its whole life.

Before load it is private anonymous memory holding the section's initial bytes;
load maps the kernel's array map over the very same address (``MAP_FIXED``), as
libbpf does, so ctypes objects made earlier now read and write kernel memory with
no syscall.  Destroy puts private memory holding the last values back in place, so
a stale reference reads old values instead of crashing.  The memory is unmapped
when the last Python reference goes.
"""

from __future__ import annotations

import ctypes
import weakref

from ..errors import ObjectError, describe_errno
from ..sys import syscall as sc
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

    def read(self) -> bytes:
        return ctypes.string_at(self.address, self.size)

    def write(self, data: bytes) -> None:
        if len(data) > self.size:
            raise ValueError(f"{len(data)} bytes do not fit in {self.size}")
        ctypes.memmove(self.address, data, len(data))

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
        """Replace the kernel mapping by private memory with the same bytes."""
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
