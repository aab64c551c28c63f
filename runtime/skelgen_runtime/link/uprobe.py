"""uprobes and uretprobes on functions of user binaries, one at a time or many at
once (uprobe.multi)."""

from __future__ import annotations

import ctypes
import os
from collections.abc import Sequence

from ..kernel import probes
from ..sys import attr as a, commands as cmd
from . import binaries
from .attaching import AttachableProgram, attaching, multi_probe
from .link import Link
from .perf_event import attach_probe_event

BPF_F_UPROBE_MULTI_RETURN = 1 << 0


def attach_uprobe(
    program: AttachableProgram,
    binary: str,
    func_or_offset: str | int,
    pid: int = -1,
    retprobe: bool = False,
    legacy: bool = False,
) -> Link:
    """A uprobe on ``binary`` (a path, a library name, or a program on $PATH) at
    ``func_or_offset`` (``"func"``, ``"func+0x10"`` or a file offset); ``pid`` -1
    means every process, 0 this one."""
    kind = "uretprobe" if retprobe else "uprobe"
    target = f"{binary}:{func_or_offset}"
    with attaching(program, kind, target):
        path = binaries.find_binary(binary)
        if isinstance(func_or_offset, int):
            offset = func_or_offset
        else:
            offset = function_file_offset(path, func_or_offset)
        event = probes.open_uprobe(path, offset, retprobe, pid, legacy)
    return attach_probe_event(program, event, kind, target)


def attach_uprobe_multi(
    program: AttachableProgram,
    binary: str,
    functions: str | Sequence[str | int],
    pid: int = -1,
    retprobe: bool | None = None,
) -> Link:
    """One link probing many functions of ``binary`` (kernel 6.6+): a glob pattern such
    as ``"malloc*"``, or a list of function names and file offsets.  ``pid`` -1 means
    every process, 0 this one; ``retprobe`` defaults to what the section says."""
    shown = functions if isinstance(functions, str) else ",".join(map(str, functions))
    target = f"{binary}:{shown}"
    kind, attach_type, retprobe = multi_probe(program, target, "uprobe", retprobe)
    with attaching(program, kind, target, attach_type):
        path = binaries.find_binary(binary)
        if isinstance(functions, str):
            offsets = [
                offset for _name, offset in binaries.function_offsets(path, functions)
            ]
        else:
            offsets = [
                f if isinstance(f, int) else function_file_offset(path, f)
                for f in functions
            ]
        raw_path = ctypes.create_string_buffer(os.fsencode(path))
        raw_offsets = (ctypes.c_uint64 * len(offsets))(*offsets)
        tail = a.UprobeMultiLinkTail(
            path=ctypes.addressof(raw_path),
            offsets=ctypes.addressof(raw_offsets),
            cnt=len(offsets),
            flags=BPF_F_UPROBE_MULTI_RETURN if retprobe else 0,
            pid=(
                os.getpid() if pid == 0 else max(pid, 0)
            ),  # the kernel's 0 is "every process"
        )
        fd = cmd.link_create(program.fd, 0, attach_type, 0, tail)
    return Link(fd, program.name, kind, target)


def function_file_offset(path: str, function: str) -> int:
    ref = binaries.parse_function(function)
    return binaries.function_offset(path, ref.name) + ref.offset
