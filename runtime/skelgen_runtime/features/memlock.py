"""RLIMIT_MEMLOCK on kernels that charge BPF memory to it (before 5.11).

libbpf raises the limit to infinity once, before its first map or program, when the
kernel does not charge BPF memory to the memory cgroup (``bump_rlimit_memlock``);
so do we, so that maps are created without the user touching rlimits.
"""

from __future__ import annotations

import contextlib
import resource
import threading

from .programs import has_memcg_accounting

_lock = threading.Lock()
_done = False


def ensure_memlock() -> None:
    """Raise RLIMIT_MEMLOCK to infinity if this kernel counts BPF memory against it;
    once per process.  A process that may not raise it keeps its limit (the kernel's
    EPERM then says so)."""
    global _done
    if _done:
        return
    with _lock:
        if _done:
            return
        _done = True
        if has_memcg_accounting():
            return
        unlimited = resource.RLIM_INFINITY
        with contextlib.suppress(OSError, ValueError):
            resource.setrlimit(resource.RLIMIT_MEMLOCK, (unlimited, unlimited))
