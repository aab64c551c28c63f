"""Ring buffers against the kernel: every record of a known sequence, in order.

``ringbuf_events.bpf.c``'s ``produce`` emits ``emit_count`` numbered events per
test_run (seq, value = 3 * seq, tail = ~seq) and counts reservations the ring
refused in ``dropped``; ``ringbuf_user.bpf.c``'s ``drain_user`` reads the user ring
buffer back.  Kernels without syscall programs or user ring buffers say so (probed).
"""

from __future__ import annotations

import asyncio
import functools
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import pytest
from attach_support import produce
from conftest import open_fds
from kernel_features import load_or_lacking, with_syscall_programs
from skelgen_runtime import EventPoller, MapError
from skelgen_runtime.features.maps import has_map_type
from skelgen_runtime.features.requirements import MAP_TYPES
from skelgen_runtime.uapi.bpf import MapType

pytestmark = pytest.mark.usefixtures("root_only")

MASK64 = (1 << 64) - 1
EVENT_SIZE = 32
RING_RECORDS = 256 * 1024 // (EVENT_SIZE + 8)  # events the 256 KiB ring holds


@pytest.fixture
def module(skeleton_module: Callable[[str], ModuleType]) -> ModuleType:
    return skeleton_module("ringbuf_events")


@pytest.fixture
def skel(module: ModuleType) -> Iterator[Any]:
    with module.RingbufEventsBpf.open_and_load() as loaded:
        yield loaded


@pytest.fixture
def user_module(skeleton_module: Callable[[str], ModuleType]) -> ModuleType:
    return skeleton_module("ringbuf_user")


@pytest.fixture
def user_skel(user_module: ModuleType) -> Iterator[Any]:
    load = functools.partial(
        load_or_lacking,
        has_map_type(MapType.USER_RINGBUF),
        MAP_TYPES[MapType.USER_RINGBUF],
        user_module.RingbufUserBpf.open_and_load,
    )
    with with_syscall_programs(load) as loaded:
        yield loaded


def check_sequence(events: list[Any], start: int = 0) -> None:
    assert [e.seq for e in events] == list(range(start, start + len(events)))
    assert all(e.value == 3 * e.seq and e.tail == ~e.seq & MASK64 for e in events)


def test_every_record_in_order_across_wraparounds(
    skel: Any, module: ModuleType
) -> None:
    seen: list[Any] = []
    for _ in range(5):  # 15000 events through a ring of 6553: it wraps twice
        produce(skel, 3000)
        assert skel.maps.events.consume(seen.append) == 3000
    assert skel.bss.dropped == 0
    assert isinstance(seen[0], module.event)
    check_sequence(seen)


def test_batch_api_and_iterator(skel: Any) -> None:
    events = skel.maps.events
    assert events.drain() == []
    produce(skel, 10)
    for index, event in enumerate(events):
        assert event.seq == index
        if index == 2:
            break  # the rest stay for the next read
    assert events.pending == 7
    batch = events.drain(timeout=1.0)
    check_sequence(batch, start=3)
    produce(skel, 5)
    check_sequence(events.drain(timeout=1.0), start=10)


def test_discarded_records_are_skipped(skel: Any) -> None:
    skel.bss.discard_every = 3
    produce(skel, 30)
    seqs = [e.seq for e in skel.maps.events.drain()]
    assert seqs == [s for s in range(30) if s % 3]


def test_variable_length_records(skel: Any) -> None:
    skel.bss.emit_count = 200
    skel.progs.produce_varlen.test_run()
    records = skel.maps.varlen.drain()
    assert len(records) == 200
    for i, record in enumerate(records):
        length = (i % 7) * 9 + 1
        assert record == bytes((i + j) & 0xFF for j in range(length))


def test_callback_exception_propagates_after_commit(skel: Any) -> None:
    produce(skel, 10)
    seen: list[int] = []

    def handle(event: Any) -> None:
        seen.append(event.seq)
        if event.seq == 4:
            raise ValueError("stop")

    with pytest.raises(ValueError, match="stop"):
        skel.maps.events.consume(handle)
    assert seen == [0, 1, 2, 3, 4]
    assert skel.maps.events.consume(handle) == 5  # 5..9, none again
    assert seen[5:] == [5, 6, 7, 8, 9]
    # the ring's space was given back: a full ring's worth fits again
    produce(skel, RING_RECORDS)
    assert skel.bss.dropped == 0
    assert len(skel.maps.events.drain()) == RING_RECORDS


def test_several_ring_buffers_in_one_poller(skel: Any, module: ModuleType) -> None:
    got: dict[str, list[Any]] = {"events": [], "other": []}
    with EventPoller() as poller:
        poller.add(skel.maps.events, got["events"].append)
        poller.add(skel.maps.other, got["other"].append)
        assert poller.poll(timeout=0.05) == 0
        produce(skel, 3)
        for _ in range(2):
            skel.progs.produce_other.test_run()
        deadline = time.monotonic() + 5
        while (
            len(got["events"]) + len(got["other"]) < 5 and time.monotonic() < deadline
        ):
            poller.poll(timeout=1.0)
    check_sequence(got["events"])
    assert got["other"] == [0, 1]


def test_poll_times_out_then_wakes_for_new_records(skel: Any) -> None:
    events = skel.maps.events
    started = time.monotonic()
    assert events.poll(lambda e: None, timeout=0.2) == 0
    assert 0.15 < time.monotonic() - started < 2
    timer = threading.Timer(0.2, produce, (skel, 4))
    timer.start()
    started = time.monotonic()
    seen: list[Any] = []
    try:
        while len(seen) < 4:
            events.poll(seen.append, timeout=10)
    finally:
        timer.join()
    assert time.monotonic() - started < 3
    check_sequence(seen)


def test_ctrl_c_interrupts_a_poll(skel: Any) -> None:
    timer = threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    started = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt):
            skel.maps.events.poll(lambda e: None, timeout=30)
    finally:
        timer.join()
    assert time.monotonic() - started < 3


def test_asyncio_consumption(skel: Any) -> None:
    async def main() -> tuple[list[Any], int]:
        loop = asyncio.get_running_loop()
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.01)

        ticking = asyncio.create_task(ticker())
        received: list[Any] = []
        producer = loop.run_in_executor(None, produce_in_bursts)
        async for event in skel.maps.events.events():
            received.append(event)
            if len(received) == 2000:
                break
        await producer
        ticking.cancel()
        return received, ticks

    def produce_in_bursts() -> None:
        for _ in range(10):
            time.sleep(0.03)
            produce(skel, 200)

    received, ticks = asyncio.run(main())
    check_sequence(received)
    assert ticks >= 10  # the loop kept running while the consumer waited


def test_zero_loss_at_a_rate_the_consumer_follows(skel: Any) -> None:
    # A count, not a duration: 50 bursts of 1000 (several times the ring) whatever
    # the machine's speed (about 400k events/s on hardware, a tenth under TCG).
    bursts, burst = 50, 1000
    stop = threading.Event()

    def producer() -> None:
        for _ in range(bursts):
            if stop.is_set():
                return
            produce(skel, burst)
            time.sleep(0.002)

    worker = threading.Thread(target=producer)
    worker.start()
    seen: list[Any] = []
    try:
        while worker.is_alive():
            seen += skel.maps.events.drain(timeout=0.1)
    finally:
        stop.set()
        worker.join()
    seen += skel.maps.events.drain()
    assert skel.bss.dropped == 0
    assert len(seen) == bursts * burst
    check_sequence(seen)


def test_user_ring_buffer_producer(user_skel: Any, user_module: ModuleType) -> None:
    skel = user_skel
    user_rb = skel.maps.from_user
    event = user_module.event
    for seq in range(100):
        user_rb.push(event(seq=seq, value=2 * seq))
    skel.progs.drain_user.test_run()
    assert (skel.bss.drained, skel.bss.out_of_order) == (100, 0)
    assert skel.bss.drained_sum == sum(2 * s for s in range(100))

    sample = user_rb.reserve(32)
    sample.data[:] = bytes(event(seq=100, value=1))
    sample.discard()  # the kernel skips it
    user_rb.push(event(seq=100, value=5))
    skel.progs.drain_user.test_run()
    assert (skel.bss.drained, skel.bss.drained_sum) == (
        101,
        sum(2 * s for s in range(100)) + 5,
    )

    pushed = 0
    with pytest.raises(MapError, match="full"):
        while True:
            user_rb.push(event(seq=101 + pushed, value=0))
            pushed += 1
    assert pushed == 16 * 1024 // 40
    timer = threading.Timer(0.2, skel.progs.drain_user.test_run)
    timer.start()
    try:
        user_rb.push(event(seq=101 + pushed, value=0), timeout=10)  # waits for room
    finally:
        timer.join()
    skel.progs.drain_user.test_run()
    assert skel.bss.drained == 101 + pushed + 1 and skel.bss.out_of_order == 0
    with pytest.raises(MapError, match="cannot fit"):
        user_rb.reserve(16 * 1024)


def test_buffers_release_every_fd(
    module: ModuleType, skeleton_module: Callable[[str], ModuleType]
) -> None:
    before = open_fds()
    with module.RingbufEventsBpf.open_and_load() as skel:
        produce(skel, 3)
        skel.maps.events.drain()
        with EventPoller() as poller:
            poller.add(skel.maps.other, print)
    if has_map_type(MapType.USER_RINGBUF):
        user_module = skeleton_module("ringbuf_user")
        with user_module.RingbufUserBpf.open_and_load() as skel:
            skel.maps.from_user.push(bytes(32))
    assert open_fds() == before
