"""The raw system calls: ``bpf()``, ``perf_event_open()``, ``ioctl()``, ``mmap()``.

This is the only module that enters the kernel.  Failures raise :class:`OSError`
with the errno; callers turn them into the typed errors of ``skelgen_runtime.errors``.
"""

from __future__ import annotations

import ctypes
import os
from ctypes import c_int, c_long, c_size_t, c_ulong, c_void_p

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


def _raise_errno(what: str) -> None:
    err = ctypes.get_errno()
    raise OSError(err, f"{what}: {os.strerror(err)}")


def bpf(cmd: int, attr: ctypes.Structure) -> int:
    """``bpf(cmd, &attr, sizeof(attr))``; returns the result or raises OSError."""
    ret: int = _syscall(NR_BPF, cmd, ctypes.addressof(attr), ctypes.sizeof(attr))
    if ret < 0:
        _raise_errno("bpf")
    return ret


def perf_event_open(attr: ctypes.Structure, pid: int, cpu: int, group_fd: int, flags: int) -> int:
    """``perf_event_open(&attr, pid, cpu, group_fd, flags)``; returns the new fd."""
    ret: int = _perf_syscall(NR_PERF_EVENT_OPEN, ctypes.addressof(attr), pid, cpu, group_fd, flags)
    if ret < 0:
        _raise_errno("perf_event_open")
    return ret


def ioctl(fd: int, request: int, arg: int) -> int:
    ret: int = _ioctl(fd, request, arg)
    if ret < 0:
        _raise_errno("ioctl")
    return ret


def mmap(addr: int | None, length: int, prot: int, flags: int, fd: int, offset: int) -> int:
    """libc ``mmap``; returns the address.  Unlike Python's :mod:`mmap`, it can map at
    a fixed address, which keeps ctypes objects valid when memory is swapped under them."""
    ret = _mmap(addr, length, prot, flags, fd, offset)
    if ret is None or ret == MAP_FAILED:
        _raise_errno("mmap")
    assert ret is not None
    return int(ret)


def munmap(addr: int, length: int) -> None:
    if _munmap(addr, length) < 0:
        _raise_errno("munmap")
