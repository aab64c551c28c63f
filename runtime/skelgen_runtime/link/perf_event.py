"""Programs on perf events: tracepoints, sampling events, and the kprobe and uprobe
events the other modules open (the link owns the event from then on)."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable

from ..kernel import probes
from ..kernel.probes import ProbeEvent
from ..sys import attr as a, commands as cmd
from ..uapi.bpf import AttachType
from .attaching import AttachableProgram, attaching
from .link import Link


def attach_probe_event(
    program: AttachableProgram,
    event: ProbeEvent,
    kind: str,
    target: str,
    cookie: int = 0,
) -> Link:
    """Link ``program`` to a perf event, with a BPF cookie (``bpf_get_attach_cookie()``);
    the link owns the event from then on."""
    release: list[Callable[[], None]] = [functools.partial(os.close, event.perf_fd)]
    if event.remove is not None:
        release.append(event.remove)
    try:
        with attaching(program, kind, target):
            tail = a.PerfEventLinkTail(bpf_cookie=cookie) if cookie else None
            fd = cmd.link_create(
                program.fd, event.perf_fd, AttachType.PERF_EVENT, 0, tail
            )
    except BaseException:
        for step in release:
            step()
        raise
    return Link(fd, program.name, kind, target, release=release)


def attach_perf_event(program: AttachableProgram, perf_fd: int) -> Link:
    """Attach to an open perf event; the link takes ownership of ``perf_fd``."""
    return attach_probe_event(
        program, ProbeEvent(perf_fd), "perf_event", f"perf fd {perf_fd}"
    )


def attach_tracepoint(program: AttachableProgram, category: str, name: str) -> Link:
    target = f"{category}/{name}"
    with attaching(program, "tracepoint", target):
        perf_fd = probes.open_tracepoint(category, name)
    return attach_probe_event(program, ProbeEvent(perf_fd), "tracepoint", target)
