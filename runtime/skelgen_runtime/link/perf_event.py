"""Programs on perf events: tracepoints, sampling events, and the kprobe and uprobe
events the other modules open (the link owns the event from then on).

As libbpf: a BPF link (``BPF_PERF_EVENT``) where the kernel has them (5.15+), else
``PERF_EVENT_IOC_SET_BPF`` and ``PERF_EVENT_IOC_ENABLE`` on the perf event, which
then stands for the link (:class:`PerfEventLink`).
"""

from __future__ import annotations

import errno
import functools
import os
from collections.abc import Callable

from ..errors import AttachError
from ..features import links as link_features
from ..features.requirements import PERF_COOKIE, PERF_LINK
from ..kernel import probes
from ..kernel.probes import ProbeEvent
from ..sys import attr as a, commands as cmd
from ..sys.syscall import ioctl
from ..uapi.bpf import AttachType
from ..uapi.perf import (
    PERF_EVENT_IOC_ENABLE,
    PERF_EVENT_IOC_SET_BPF,
)
from .attaching import AttachableProgram, attaching
from .link import Link


class PerfEventLink(Link):
    """A program set on a perf event by ioctl, on a kernel without BPF perf-event
    links: detaching closes the event.  ``fd`` is the perf event's fd;
    it is no BPF link, so it can be neither pinned nor updated (as libbpf's)."""

    def pin(self, path: str) -> None:
        raise AttachError(
            f"cannot pin the {self.kind} attachment of {self.program}: it is a perf "
            f"event, not a BPF link ({PERF_LINK.message()})",
            program=self.program,
            errno=errno.EOPNOTSUPP,
        )

    def update(self, program: object) -> None:
        raise AttachError(
            f"cannot update the {self.kind} attachment of {self.program}: it is a perf "
            f"event, not a BPF link ({PERF_LINK.message()})",
            program=self.program,
            errno=errno.EOPNOTSUPP,
        )


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
            if link_features.has_perf_link():
                tail = a.PerfEventLinkTail(bpf_cookie=cookie) if cookie else None
                fd = cmd.link_create(
                    program.fd, event.perf_fd, AttachType.PERF_EVENT, 0, tail
                )
                return Link(fd, program.name, kind, target, release=release)
            if cookie:
                raise AttachError(PERF_COOKIE.message(), errno=errno.EOPNOTSUPP)
            ioctl(event.perf_fd, PERF_EVENT_IOC_SET_BPF, program.fd)
            ioctl(event.perf_fd, PERF_EVENT_IOC_ENABLE, 0)
    except BaseException:
        for step in release:
            step()
        raise
    # The perf fd is the attachment: the link closes it, which detaches.
    return PerfEventLink(event.perf_fd, program.name, kind, target, release=release[1:])


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
