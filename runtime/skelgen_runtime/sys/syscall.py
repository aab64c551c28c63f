"""The raw system calls: ``bpf()``, ``perf_event_open()``, ``ioctl()``, ``mmap()``.

This is the only module that enters the kernel.  Failures raise :class:`OSError`
with the errno; callers turn them into the typed errors of ``skelgen_runtime.errors``.
"""

from __future__ import annotations

import ctypes
import mmap as _mmap_module
import os
import weakref
from ctypes import c_int, c_long, c_size_t, c_ulong, c_void_p

from ..lean.hints import TypeVar
from .numbers import NR_BPF, NR_PERF_EVENT_OPEN

_libc = ctypes.CDLL(None, use_errno=True)

_syscall = _libc.syscall
_syscall.restype = c_long
_syscall.argtypes = [c_long, c_long, c_void_p, c_ulong]

# A second handle on syscall(2): argtypes belong to the function object, and
# perf_event_open takes more arguments than bpf().
_perf_syscall = _libc["syscall"]
_perf_syscall.restype = c_long
_perf_syscall.argtypes = [c_long, c_void_p, c_int, c_int, c_int, c_ulong]

_ioctl = _libc.ioctl
_ioctl.restype = c_int
_ioctl.argtypes = [c_int, c_ulong, c_ulong]

_mmap = _libc.mmap
_mmap.restype = c_void_p
_mmap.argtypes = [c_void_p, c_size_t, c_int, c_int, c_int, ctypes.c_long]
_munmap = _libc.munmap
_munmap.restype = c_int
_munmap.argtypes = [c_void_p, c_size_t]

MAP_FAILED = ctypes.c_void_p(-1).value

PROT_READ = 0x1
PROT_WRITE = 0x2
MAP_SHARED = 0x01
MAP_PRIVATE = 0x02
MAP_FIXED = 0x10
MAP_ANONYMOUS = 0x20
PAGE_SIZE = _mmap_module.PAGESIZE


def _raise_errno(what: str) -> None:
    err = ctypes.get_errno()
    raise OSError(err, f"{what}: {os.strerror(err)}")


# A third handle for hot loops (single map operations, ~1 µs each): PyDLL keeps the
# GIL across the call, and without argtypes no converter objects run per call.
# Called as ``bpf_raw(*bpf_args(cmd, attr))``: a ready tuple passes straight through,
# where functools.partial would build one per call (~90 ns here).
bpf_raw = ctypes.PyDLL(None, use_errno=True)["syscall"]
bpf_raw.restype = c_long
_INT_ADDRESS_LIMIT = 1 << 31  # an address below this passes to ctypes as a plain int


class _LowMemory:
    """Small blocks below 2 GiB (x86-64 ``MAP_32BIT`` pages) for bound ``bpf_attr``s.

    ctypes passes an address that fits a C int as a plain int; any other address
    needs a pointer object converted on every call, ~5% of a map lookup here.  Where
    such pages cannot be had, callers get ordinary memory and the slower call.
    """

    BLOCK = 64
    MAP_32BIT = 0x40

    def __init__(self) -> None:
        self._free: list[int] = []
        self._available = os.uname().machine in ("x86_64", "amd64")

    def take(self) -> int | None:
        if not self._free:
            if not self._available:
                return None
            try:
                flags = MAP_PRIVATE | MAP_ANONYMOUS | self.MAP_32BIT
                page = mmap(None, PAGE_SIZE, PROT_READ | PROT_WRITE, flags, -1, 0)
            except OSError:
                self._available = False
                return None
            self._free += range(page, page + PAGE_SIZE, self.BLOCK)
        return self._free.pop()

    def give(self, address: int) -> None:
        ctypes.memset(address, 0, self.BLOCK)
        self._free.append(address)


_low_memory = _LowMemory()
AttrT = TypeVar("AttrT", bound=ctypes.Structure)


def bound_attr(attr_type: type[AttrT]) -> AttrT:
    """A zeroed ``attr_type`` to give :func:`bpf_bound`, in low memory if possible."""
    if ctypes.sizeof(attr_type) <= _LowMemory.BLOCK:
        address = _low_memory.take()
        if address is not None:
            attr = attr_type.from_address(address)
            weakref.finalize(attr, _low_memory.give, address)
            return attr
    return attr_type()


def bpf_args(cmd: int, attr: ctypes.Structure) -> tuple[object, ...]:
    """The arguments of ``bpf(cmd, &attr, sizeof(attr))`` for :data:`bpf_raw`, to
    repeat one command: ``bpf_raw(*args)`` returns the raw result, negative on
    failure with the errno in ``ctypes.get_errno()`` (raising costs more than the
    call itself).  The caller keeps ``attr`` (best made by :func:`bound_attr`)
    alive as long as the arguments."""
    address = ctypes.addressof(attr)
    pointer = address if address < _INT_ADDRESS_LIMIT else c_void_p(address)
    return (NR_BPF, int(cmd), pointer, ctypes.sizeof(attr))


def bpf(cmd: int, attr: ctypes.Structure) -> int:
    """``bpf(cmd, &attr, sizeof(attr))``; returns the result or raises OSError."""
    ret: int = _syscall(NR_BPF, cmd, ctypes.addressof(attr), ctypes.sizeof(attr))
    if ret < 0:
        _raise_errno("bpf")
    return ret


def perf_event_open(
    attr: ctypes.Structure, pid: int, cpu: int, group_fd: int, flags: int
) -> int:
    """``perf_event_open(&attr, pid, cpu, group_fd, flags)``; returns the new fd."""
    ret: int = _perf_syscall(
        NR_PERF_EVENT_OPEN, ctypes.addressof(attr), pid, cpu, group_fd, flags
    )
    if ret < 0:
        _raise_errno("perf_event_open")
    return ret


def ioctl(fd: int, request: int, arg: int) -> int:
    ret: int = _ioctl(fd, request, arg)
    if ret < 0:
        _raise_errno("ioctl")
    return ret


def mmap(
    addr: int | None, length: int, prot: int, flags: int, fd: int, offset: int
) -> int:
    """libc ``mmap``; returns the address.  Unlike Python's :mod:`mmap`, it can map at
    a fixed address, which keeps ctypes objects valid when memory is swapped under them.
    """
    ret = _mmap(addr, length, prot, flags, fd, offset)
    if ret is None or ret == MAP_FAILED:
        _raise_errno("mmap")
    assert ret is not None
    return int(ret)


def munmap(addr: int, length: int) -> None:
    if _munmap(addr, length) < 0:
        _raise_errno("munmap")


BPF_FS_MAGIC = 0xCAFE4A11


def filesystem_type(path: str) -> int:
    """``statfs(path).f_type``: the magic number of the filesystem ``path`` is on
    (Python's ``os.statvfs`` has no such field)."""
    buffer = ctypes.create_string_buffer(256)  # struct statfs: 120 bytes on 64-bit
    if _libc.statfs(os.fsencode(path), buffer) < 0:
        _raise_errno(f"statfs {path}")
    return ctypes.c_long.from_buffer(buffer).value & 0xFFFFFFFF
