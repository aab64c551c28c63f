"""Perf buffers against the kernel: per-CPU rings, wrapped records, lost counts.

``perfbuf_events.bpf.c`` emits ``emit_count`` numbered events with
``bpf_perf_event_output`` each time this process calls getppid(); the test pins
itself to one CPU so a sequence lands, in order, in that CPU's ring.
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import threading
import time
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import pytest
from conftest import open_fds, require
from skelgen_runtime.kernel.cpus import online_cpus

pytestmark = pytest.mark.usefixtures("root_only")

MASK64 = (1 << 64) - 1
RECORD_SIZE = 48  # perf header 8 + raw size 4 + event 32, padded to 8 bytes


class Event(ctypes.Structure):
    _fields_ = [
        ("seq", ctypes.c_uint64),
        ("value", ctypes.c_uint64),
        ("cpu", ctypes.c_uint32),
        ("flags", ctypes.c_uint32),
        ("tail", ctypes.c_uint64),
    ]


@pytest.fixture
def on_cpu0() -> Iterator[None]:
    saved = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {0})
    yield
    os.sched_setaffinity(0, saved)


@pytest.fixture
def skel(skeleton_module: Callable[[str], ModuleType]) -> Iterator[Any]:
    module = skeleton_module("perfbuf_events")
    with module.PerfbufEventsBpf.open_and_load() as loaded:
        loaded.bss.target_pid = os.getpid()
        loaded.attach()
        loaded.maps.events.event_type = Event
        yield loaded


def emit(skel: Any, count: int) -> None:
    skel.bss.emit_count = count
    os.getppid()


def check_sequence(events: list[Any], start: int = 0) -> None:
    assert [e.seq for e in events] == list(range(start, start + len(events)))
    assert all(e.value == 3 * e.seq and e.tail == ~e.seq & MASK64 for e in events)


@pytest.mark.usefixtures("on_cpu0")
def test_every_record_in_order_through_wrapping_rings(skel: Any) -> None:
    perf = skel.maps.events
    perf.open_buffer(page_count=1)  # 4096 bytes: records of 48 wrap around its end
    seen: list[Any] = []
    for _ in range(12):
        emit(skel, 60)
        assert perf.consume(seen.append) == 60
    check_sequence(seen)
    assert isinstance(seen[0], Event) and {e.cpu for e in seen} == {0}
    assert perf.lost == 0 and skel.bss.failed == 0


@pytest.mark.usefixtures("on_cpu0")
def test_lost_counts_when_the_consumer_stalls(skel: Any) -> None:
    reported: list[tuple[int, int]] = []
    perf = skel.maps.events
    perf.open_buffer(
        page_count=1, lost_callback=lambda cpu, n: reported.append((cpu, n))
    )
    emit(skel, 600)  # nobody reads: the ring fills up
    first = perf.drain()
    fits = 4096 // RECORD_SIZE
    check_sequence(first)
    assert len(first) == fits
    emit(skel, 1)  # the kernel reports the loss before the next sample
    second = perf.drain()
    assert reported == [(0, 600 - fits)]
    assert perf.lost == 600 - fits == skel.bss.failed
    assert [e.seq for e in second] == [600]


@pytest.mark.usefixtures("on_cpu0")
def test_poll_iterator_and_asyncio(skel: Any) -> None:
    perf = skel.maps.events
    timer = threading.Timer(0.2, emit, (skel, 5))
    timer.start()
    seen: list[Any] = []
    try:
        while len(seen) < 5:
            perf.poll(seen.append, timeout=10)
    finally:
        timer.join()
    emit(skel, 5)
    for event in perf:
        seen.append(event)
        if len(seen) == 10:
            break

    async def consume() -> list[Any]:
        got: list[Any] = []
        producer = asyncio.get_running_loop().run_in_executor(None, emit_later)
        async for event in perf.events():
            got.append(event)
            if len(got) == 300:
                break
        await producer
        return got

    def emit_later() -> None:
        for _ in range(3):
            time.sleep(0.05)
            emit(skel, 100)

    seen += asyncio.run(consume())
    check_sequence(seen)


def test_every_online_cpu_has_a_ring(skel: Any) -> None:
    cpus = online_cpus()
    require(len(cpus) > 1, "needs two CPUs")
    perf = skel.maps.events
    perf.open_buffer(page_count=8)
    saved = os.sched_getaffinity(0)
    try:
        for cpu in cpus:
            os.sched_setaffinity(0, {cpu})
            emit(skel, 10)
    finally:
        os.sched_setaffinity(0, saved)
    events = perf.drain()
    assert {e.cpu for e in events} == set(cpus)
    for cpu in cpus:  # each CPU's ring keeps its own order
        mine = [e.seq for e in events if e.cpu == cpu]
        assert mine == sorted(mine) and len(mine) == 10
    check_sequence(sorted(events, key=lambda e: e.seq))


def test_perf_buffer_releases_every_fd(
    skeleton_module: Callable[[str], ModuleType],
) -> None:
    before = open_fds()
    module = skeleton_module("perfbuf_events")
    with module.PerfbufEventsBpf.open_and_load() as skel:
        skel.maps.events.open_buffer(page_count=2)
        skel.maps.events.drain()
    assert open_fds() == before
