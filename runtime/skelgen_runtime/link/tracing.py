"""Raw tracepoints, and the BTF-targeted hooks (fentry, fexit, fmod_ret, tp_btf,
lsm, freplace) whose target was fixed when the program was loaded."""

from __future__ import annotations

from ..sys import commands as cmd
from .attaching import AttachableProgram, attaching, section_kind
from .link import Link


def attach_raw_tracepoint(program: AttachableProgram, name: str) -> Link:
    with attaching(program, "raw_tracepoint", name):
        fd = cmd.raw_tracepoint_open(program.fd, name)
    return Link(fd, program.name, "raw_tracepoint", name)


def attach_trace(program: AttachableProgram) -> Link:
    """fentry/fexit/fmod_ret/tp_btf/freplace/lsm: the target was fixed at load."""
    kind, target = section_kind(program), program.attach_target or ""
    with attaching(program, kind, target):
        fd = cmd.raw_tracepoint_open(program.fd, None)
    return Link(fd, program.name, kind, target)
