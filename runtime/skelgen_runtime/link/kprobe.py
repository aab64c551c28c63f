"""kprobes and kretprobes on kernel functions, on system calls, and many at once
(kprobe.multi)."""

from __future__ import annotations

import ctypes
import errno
from collections.abc import Sequence

from ..errors import AttachError
from ..kernel import probes
from ..sys import attr as a, commands as cmd
from .attaching import AttachableProgram, attaching, multi_probe
from .link import Link
from .perf_event import attach_probe_event

BPF_F_KPROBE_MULTI_RETURN = 1 << 0


def attach_kprobe(
    program: AttachableProgram,
    func: str,
    offset: int = 0,
    retprobe: bool = False,
    legacy: bool = False,
) -> Link:
    """A kprobe on ``func+offset`` (kretprobe on return); ``legacy`` forces tracefs."""
    kind = "kretprobe" if retprobe else "kprobe"
    target = f"{func}+{offset:#x}" if offset else func
    with attaching(program, kind, target):
        event = probes.open_kprobe(func, offset, retprobe, legacy)
    return attach_probe_event(program, event, kind, target)


def attach_ksyscall(
    program: AttachableProgram, name: str, retprobe: bool = False
) -> Link:
    """A kprobe on the entry (or return) of system call ``name``."""
    return attach_kprobe(program, probes.syscall_function(name), 0, retprobe)


def attach_kprobe_multi(
    program: AttachableProgram,
    functions: str | Sequence[str],
    retprobe: bool | None = None,
) -> Link:
    """One link on many kernel functions (a glob pattern or a list of names); needs a
    kernel with fprobes.  ``retprobe`` defaults to what the section says."""
    target = functions if isinstance(functions, str) else ",".join(functions)
    kind, attach_type, retprobe = multi_probe(program, target, "kprobe", retprobe)
    with attaching(program, kind, target, attach_type):
        names = (
            probes.kernel_functions(functions)
            if isinstance(functions, str)
            else functions
        )
        if not names:
            raise AttachError(
                f"no kernel function matches {target!r}", errno=errno.ENOENT
            )
        raw_names = [ctypes.create_string_buffer(name.encode()) for name in names]
        syms = (ctypes.c_uint64 * len(raw_names))(*map(ctypes.addressof, raw_names))
        tail = a.KprobeMultiLinkTail(
            flags=BPF_F_KPROBE_MULTI_RETURN if retprobe else 0,
            cnt=len(raw_names),
            syms=ctypes.addressof(syms),
        )
        fd = cmd.link_create(program.fd, 0, attach_type, 0, tail)
    return Link(fd, program.name, kind, target)
