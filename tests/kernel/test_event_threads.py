"""Event streams under threads and asyncio: each record delivered once whoever polls;
``destroy()`` wakes the threads blocked on a buffer, never raises, and closes every fd.

``ringbuf_events.bpf.c``'s ``produce`` emits numbered events into a ring buffer;
``perfbuf_events.bpf.c`` emits them into a perf buffer on each getppid() of this
process; ``ringbuf_user.bpf.c`` has a user ring buffer.  Kernels without syscall
programs or user ring buffers say so (probed).
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest
from attach_support import produce
from conftest import open_fds
from kernel_features import load_or_lacking
from skelgen_runtime import BPFError, EventPoller
from skelgen_runtime.features.maps import has_map_type
from skelgen_runtime.features.requirements import MAP_TYPES
from skelgen_runtime.uapi.bpf import MapType

pytestmark = pytest.mark.usefixtures("root_only")

BURST = 3000  # events per produce(); two bursts fit the 256 KiB ring (6553 records)
WAKE_LIMIT = 2.0  # seconds destroy() may take to return a blocked poller


@pytest.fixture
def ring_module(skeleton_module: Callable[[str], ModuleType]) -> ModuleType:
    return skeleton_module("ringbuf_events")


@pytest.fixture
def perf_module(skeleton_module: Callable[[str], ModuleType]) -> ModuleType:
    return skeleton_module("perfbuf_events")


def load_ring(module: ModuleType) -> Any:
    return module.RingbufEventsBpf.open_and_load()


def test_two_threads_polling_get_each_record_exactly_once(
    ring_module: ModuleType,
) -> None:
    total = 70 * BURST  # 210,000 records
    got: list[list[int]] = [[], []]
    stop = threading.Event()
    failures: list[BaseException] = []

    with load_ring(ring_module) as skel:
        events = skel.maps.events

        def consumer(seen: list[int]) -> None:
            try:
                while not stop.is_set():
                    events.poll(lambda e: seen.append(e.seq), timeout=0.05)
            except BaseException as exc:  # reported by the main thread
                failures.append(exc)

        threads = [threading.Thread(target=consumer, args=(s,)) for s in got]
        for thread in threads:
            thread.start()
        try:
            for produced in range(BURST, total + 1, BURST):
                produce(skel, BURST)
                # at most two bursts in the ring: the kernel never drops one
                deadline = time.monotonic() + 10
                while len(got[0]) + len(got[1]) < produced - BURST:
                    assert time.monotonic() < deadline, "consumers stalled"
                    time.sleep(0.001)
            deadline = time.monotonic() + 10
            while len(got[0]) + len(got[1]) < total and time.monotonic() < deadline:
                time.sleep(0.01)
        finally:
            stop.set()
            for thread in threads:
                thread.join()
        assert skel.bss.dropped == 0
    assert not failures
    assert all(got), "both threads received records"
    assert sorted(got[0] + got[1]) == list(range(total))
    for seen in got:  # each thread's share in the order of the ring
        assert seen == sorted(seen)


def test_two_threads_polling_a_perf_buffer_get_each_record_exactly_once(
    perf_module: ModuleType,
) -> None:
    bursts, burst = 60, 1000
    got: list[list[int]] = [[], []]
    stop = threading.Event()
    with perf_module.PerfbufEventsBpf.open_and_load() as skel:
        skel.bss.target_pid = os.getpid()
        skel.attach()
        events = skel.maps.events

        def consumer(seen: list[int]) -> None:
            def record(raw: bytes) -> None:
                seen.append(int.from_bytes(raw[:8], "little"))

            while not stop.is_set():
                events.poll(record, timeout=0.05)

        events.open_buffer()
        threads = [threading.Thread(target=consumer, args=(s,)) for s in got]
        for thread in threads:
            thread.start()
        try:
            for index in range(1, bursts + 1):
                skel.bss.emit_count = burst
                os.getppid()
                deadline = time.monotonic() + 10
                while len(got[0]) + len(got[1]) < (index - 1) * burst:
                    assert time.monotonic() < deadline, "consumers stalled"
                    time.sleep(0.001)
            deadline = time.monotonic() + 10
            while (
                len(got[0]) + len(got[1]) < bursts * burst
                and time.monotonic() < deadline
            ):
                time.sleep(0.01)
        finally:
            stop.set()
            for thread in threads:
                thread.join()
        assert skel.bss.failed == 0 and events.lost == 0
    assert sorted(got[0] + got[1]) == list(range(bursts * burst))


def _blocked_ring_poll(skel: Any) -> None:
    skel.maps.events.poll(lambda e: None, timeout=None)


def _blocked_ring_iteration(skel: Any) -> None:
    for _ in skel.maps.events:
        pass


def _blocked_ring_drain(skel: Any) -> None:
    skel.maps.events.drain(timeout=None)


def _blocked_poller(skel: Any) -> None:
    with EventPoller() as poller:
        poller.add(skel.maps.events, print)
        poller.add(skel.maps.other, print)
        while True:
            poller.poll(timeout=None)


def _blocked_asyncio(skel: Any) -> None:
    async def main() -> None:
        async for _ in skel.maps.events.events():
            pass

    asyncio.run(main())


@pytest.mark.parametrize(
    "blocked",
    [
        _blocked_ring_poll,
        _blocked_ring_iteration,
        _blocked_ring_drain,
        _blocked_poller,
        _blocked_asyncio,
    ],
)
def test_destroy_wakes_a_blocked_poller(
    ring_module: ModuleType, blocked: Callable[[Any], None]
) -> None:
    before = open_fds()
    skel = load_ring(ring_module)
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            blocked(skel)
            outcome.append(None)
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    time.sleep(0.3)  # it is waiting now
    assert thread.is_alive()
    started = time.monotonic()
    skel.destroy()
    thread.join(WAKE_LIMIT)
    assert not thread.is_alive(), "destroy() left the poller blocked"
    assert time.monotonic() - started < WAKE_LIMIT
    assert len(outcome) == 1
    assert outcome[0] is None or isinstance(outcome[0], BPFError), outcome[0]
    assert open_fds() == before


def test_destroy_wakes_a_user_ring_buffer_waiting_for_room(
    skeleton_module: Callable[[str], ModuleType],
) -> None:
    module = skeleton_module("ringbuf_user")
    before = open_fds()
    skel = load_or_lacking(
        has_map_type(MapType.USER_RINGBUF),
        MAP_TYPES[MapType.USER_RINGBUF],
        module.RingbufUserBpf.open_and_load,
    )
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            while True:  # fill it, then wait for room that never comes
                skel.maps.from_user.reserve(32, timeout=None).submit()
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    time.sleep(0.3)
    assert thread.is_alive()
    skel.destroy()
    thread.join(WAKE_LIMIT)
    assert not thread.is_alive(), "destroy() left the producer blocked"
    assert isinstance(outcome[0], BPFError), outcome[0]
    assert open_fds() == before


def test_destroy_wakes_a_blocked_perf_buffer_poll(perf_module: ModuleType) -> None:
    before = open_fds()
    skel = perf_module.PerfbufEventsBpf.open_and_load()
    skel.maps.events.open_buffer()
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            skel.maps.events.poll(lambda e: None, timeout=None)
            outcome.append(None)
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    time.sleep(0.3)
    skel.destroy()
    thread.join(WAKE_LIMIT)
    assert not thread.is_alive(), "destroy() left the poller blocked"
    assert isinstance(outcome[0], BPFError)
    assert open_fds() == before


def test_destroy_during_a_drain_raises_nothing_and_closes_every_fd(
    ring_module: ModuleType,
) -> None:
    before = open_fds()
    for _ in range(20):  # destroy() lands at a different point of the drain each time
        skel = load_ring(ring_module)
        produce(skel, 6000)
        started = threading.Event()
        outcome: list[BaseException | None] = []

        def drain(
            skel: Any = skel,
            started: threading.Event = started,
            outcome: list[BaseException | None] = outcome,
        ) -> None:
            try:
                while True:
                    started.set()
                    skel.maps.events.drain()
                    produce(skel, 6000)
            except BaseException as exc:
                outcome.append(exc)

        thread = threading.Thread(target=drain)
        thread.start()
        started.wait()
        time.sleep(0.005)
        skel.destroy()  # raises nothing
        thread.join(WAKE_LIMIT)
        assert not thread.is_alive()
        assert isinstance(outcome[0], BPFError), outcome[0]
        assert open_fds() == before  # the first destroy() closed every fd
