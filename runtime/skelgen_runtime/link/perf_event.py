"""Programs on perf events: tracepoints, sampling events, and the kprobe and uprobe
events the other modules open (the link owns the event from then on)."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable

from ..errors import AttachError
from ..kernel import probes
from ..kernel.cpus import online_cpus
from ..kernel.probes import ProbeEvent
from ..sys import attr as a, commands as cmd, perf
from ..uapi.bpf import AttachType
from ..uapi.perf import PERF_COUNT_SW_CPU_CLOCK, PERF_TYPE_SOFTWARE
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
