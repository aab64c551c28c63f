"""BPF iterators: a link per iterator target, read by opening instances of it."""

from __future__ import annotations

import ctypes

from ..sys import attr as a
from ..uapi.bpf import AttachType
from .attaching import AttachableProgram, link_create, target_fd
from .link import IterLink


def attach_iter(
    program: AttachableProgram,
    *,
    map_fd: int | None = None,
    cgroup: str | int | None = None,
    order: int = 0,
    tid: int = 0,
    pid: int = 0,
    pid_fd: int = 0,
) -> IterLink:
    """An iterator link; ``read()`` on it runs the iterator.  Map iterators take
    ``map_fd``, cgroup ones ``cgroup`` (path or fd) and ``order``, task ones may be
    narrowed to one task."""
    target = program.attach_target or ""
    with target_fd(program, "iter", cgroup) as cgroup_fd:
        info = a.IterLinkInfo()
        if map_fd is not None:
            info.map.map_fd = map_fd
        elif cgroup_fd is not None:
            info.cgroup.cgroup_fd, info.cgroup.order = cgroup_fd, order
        else:
            info.task.tid, info.task.pid, info.task.pid_fd = tid, pid, pid_fd
        tail = None
        if map_fd is not None or cgroup_fd is not None or tid or pid or pid_fd:
            tail = a.IterLinkTail(
                iter_info=ctypes.addressof(info), iter_info_len=ctypes.sizeof(info)
            )
        link = link_create(
            program,
            "iter",
            target,
            0,
            AttachType.TRACE_ITER,
            tail=tail,
            link_class=IterLink,
        )
    assert isinstance(link, IterLink)
    return link
