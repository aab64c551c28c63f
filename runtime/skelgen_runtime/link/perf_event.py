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
from ..kernel.cpus import online_cpus
from ..kernel.probes import ProbeEvent
from ..sys import attr as a, commands as cmd, perf
from ..sys.syscall import ioctl
from ..uapi.bpf import AttachType
from ..uapi.perf import (
    PERF_COUNT_SW_CPU_CLOCK,
    PERF_EVENT_IOC_ENABLE,
    PERF_EVENT_IOC_SET_BPF,
    PERF_TYPE_SOFTWARE,
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


class PerfSamplingLink(Link):
    """A program sampling on several CPUs: one perf-event link per CPU
    (``per_cpu``), detached together."""

    def __init__(self, program: str, target: str, per_cpu: list[Link]) -> None:
        super().__init__(
            None,
            program,
            "perf_sampling",
            target,
            release=[link.detach for link in per_cpu],
        )
        self.per_cpu = tuple(per_cpu)


def attach_perf_sampling(
    program: AttachableProgram, freq: int, period: int, cpu: int | None
) -> PerfSamplingLink:
    """Run ``program`` ``freq`` times a second (or every ``period`` ns) of CPU time
    on CPU ``cpu``, or on every online CPU: a software ``cpu-clock`` perf event per
    CPU, as ``perf record -F`` and libbpf-bootstrap's profile open them."""
    if (freq > 0) == (period > 0):
        raise AttachError(
            f"attach {program.name} (perf_sampling): give one of freq (Hz) and"
            f" period (ns), a positive number, not freq={freq} period={period}",
            program=program.name,
        )
    rate = f"{freq} Hz" if freq else f"every {period} ns"
    cpus = online_cpus() if cpu is None else [cpu]
    per_cpu: list[Link] = []
    try:
        for one in cpus:
            target = f"cpu-clock {rate} on cpu {one}"
            with attaching(program, "perf_sampling", target):
                perf_fd = perf.open_perf_event(
                    PERF_TYPE_SOFTWARE,
                    PERF_COUNT_SW_CPU_CLOCK,
                    cpu=one,
                    sample_freq=freq,
                    sample_period=period,
                )
            per_cpu.append(
                attach_probe_event(program, ProbeEvent(perf_fd), "perf_event", target)
            )
    except BaseException:
        for link in per_cpu:
            link.detach()
        raise
    where = "every cpu" if cpu is None else f"cpu {cpu}"
    return PerfSamplingLink(program.name, f"cpu-clock {rate} on {where}", per_cpu)
