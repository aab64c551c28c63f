"""numpy arrays from the kernel: ring and perf buffer records with drain_array(),
whole maps with to_numpy() — the same records and entries the object-per-record
API gives, in the same order.

Ring buffers: ``ringbuf_events.bpf.c`` (see test_ringbuf.py); perf buffers:
``perfbuf_events.bpf.c`` (see test_perfbuf.py), pinned to CPU 0.
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import pytest
from conftest import require
from skelgen_runtime import HashMap, MapError, MapType, PerCpuArrayMap
from skelgen_runtime.kernel.cpus import online_cpus

np = pytest.importorskip("numpy")

pytestmark = pytest.mark.usefixtures("root_only")

MASK64 = (1 << 64) - 1


@pytest.fixture
def ring_skel(skeleton_module: Callable[[str], ModuleType]) -> Iterator[Any]:
    with skeleton_module("ringbuf_events").RingbufEventsBpf.open_and_load() as loaded:
        yield loaded


def produce(skel: Any, count: int) -> None:
    skel.bss.emit_count = count
    skel.progs.produce.test_run()


def check_sequence(events: Any, start: int = 0) -> None:
    seq = events["seq"]
    assert list(seq) == list(range(start, start + len(events)))
    assert (events["value"] == 3 * seq).all()
    assert (events["tail"] == ~seq).all()  # ~ of an unsigned 64-bit array


def test_drain_array_across_wraparounds_and_discards(ring_skel: Any) -> None:
    events = ring_skel.maps.events
    empty = events.drain_array()
    assert len(empty) == 0 and empty.dtype.names == (
        "seq",
        "value",
        "cpu",
        "flags",
        "tail",
    )
    got = []
    for _ in range(5):  # 15000 events through a ring of 6553: it wraps twice
        produce(ring_skel, 3000)
        got.append(events.drain_array())
    assert [len(batch) for batch in got] == [3000] * 5
    check_sequence(np.concatenate(got))
    ring_skel.bss.discard_every = 3  # discarded records break runs: skipped
    produce(ring_skel, 30)
    kept = events.drain_array(timeout=1.0)
    assert list(kept["seq"]) == [s for s in range(15000, 15030) if s % 3]
    assert ring_skel.bss.dropped == 0


def test_drain_array_after_an_iterator_stopped(ring_skel: Any) -> None:
    events = ring_skel.maps.events
    produce(ring_skel, 10)
    for event in events:
        if event.seq == 2:
            break  # 7 decoded records wait; drain_array() hands them out first
    produce(ring_skel, 5)
    check_sequence(events.drain_array(), start=3)  # the 7, as drain() would
    check_sequence(events.drain_array(), start=10)  # then the ring's 5
    assert events.drain() == []


def test_drain_array_needs_a_record_type(ring_skel: Any) -> None:
    with pytest.raises(MapError, match="fixed-size records"):
        ring_skel.maps.varlen.drain_array()


@pytest.fixture
def perf_skel(skeleton_module: Callable[[str], ModuleType]) -> Iterator[Any]:
    saved = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {0})
    with skeleton_module("perfbuf_events").PerfbufEventsBpf.open_and_load() as loaded:
        loaded.bss.target_pid = os.getpid()
        loaded.attach()
        loaded.maps.events.event_type = PerfEvent
        yield loaded
    os.sched_setaffinity(0, saved)


class PerfEvent(ctypes.Structure):
    _fields_ = [
        ("seq", ctypes.c_uint64),
        ("value", ctypes.c_uint64),
        ("cpu", ctypes.c_uint32),
        ("flags", ctypes.c_uint32),
        ("tail", ctypes.c_uint64),
    ]


def test_perf_buffer_drain_array_through_wrapping_rings(perf_skel: Any) -> None:
    perf = perf_skel.maps.events
    perf.open_buffer(page_count=1)  # 4096 bytes: records of 48 wrap around its end
    batches = []
    for _ in range(12):
        perf_skel.bss.emit_count = 60
        os.getppid()
        batches.append(perf.drain_array())
    events = np.concatenate(batches)
    check_sequence(events)
    assert set(events["cpu"]) == {0} and perf.lost == 0


class Lost(Exception):
    pass


def fill_then_lose(perf_skel: Any, cpus: list[int], after: int) -> int:
    """Fill each CPU's one-page ring (600 events, nobody reading), read what
    fitted, then emit ``after`` more on each: the kernel writes a LOST record before
    them.  Returns the count lost per CPU."""
    perf = perf_skel.maps.events
    for cpu in cpus:
        os.sched_setaffinity(0, {cpu})
        perf_skel.bss.emit_count = 600
        os.getppid()
    fits = 4096 // 48  # records of 48 bytes
    assert len(perf.drain_array()) == fits * len(cpus)
    for cpu in cpus:
        os.sched_setaffinity(0, {cpu})
        perf_skel.bss.emit_count = after
        os.getppid()
    os.sched_setaffinity(0, {0})
    return 600 - fits


def test_a_raising_lost_callback_keeps_the_records_for_any_next_read(
    perf_skel: Any,
) -> None:
    """The rings moved on before the callback raised: the records wait, as events,
    for the next read of either kind, once each (not as numpy chunks, which drain()
    handed out and pending counted as one)."""
    perf = perf_skel.maps.events

    def lost_callback(cpu: int, count: int) -> None:
        raise Lost(cpu, count)

    perf.open_buffer(page_count=1, lost_callback=lost_callback)
    lost = fill_then_lose(perf_skel, [0], after=5)
    with pytest.raises(Lost):
        perf.drain_array()
    assert perf.lost == lost and perf.pending == 5
    kept = perf.drain()
    assert [type(e) for e in kept] == [PerfEvent] * 5
    assert [e.seq for e in kept] == list(range(600, 605))
    assert perf.drain() == []
    lost_again = fill_then_lose(perf_skel, [0], after=5)  # and into an array
    with pytest.raises(Lost):
        perf.drain_array()
    assert perf.lost == lost + lost_again
    check_sequence(perf.drain_array(), start=1205)
    assert len(perf.drain_array()) == 0 and perf.drain() == []


def test_losses_after_a_raising_lost_callback_are_counted_and_reported_later(
    perf_skel: Any,
) -> None:
    cpus = online_cpus()[:2]
    require(len(cpus) == 2, "needs two CPUs")
    perf = perf_skel.maps.events
    reported: list[tuple[int, int]] = []

    def lost_callback(cpu: int, count: int) -> None:
        reported.append((cpu, count))
        if len(reported) == 1:
            raise Lost(cpu, count)

    perf.open_buffer(page_count=1, lost_callback=lost_callback, cpus=cpus)
    lost = fill_then_lose(perf_skel, cpus, after=5)
    with pytest.raises(Lost):
        perf.drain_array()
    assert perf.lost == 2 * lost  # both counted, one reported
    assert reported == [(cpus[0], lost)]
    check_sequence(perf.drain_array(), start=1200)  # 5 of each CPU, in CPU order
    assert len(perf.drain_array()) == 0  # the next read of the rings reports
    assert reported == [(cpus[0], lost), (cpus[1], lost)]


def test_to_numpy_reads_every_entry() -> None:
    count = 5000
    with HashMap.create(
        MapType.HASH, 4, 8, count, key_type=ctypes.c_uint32, value_type=ctypes.c_uint64
    ) as m:
        empty_keys, empty_values = m.to_numpy()
        assert len(empty_keys) == len(empty_values) == 0
        m.update_batch((k, 3 * k + 1) for k in range(count))
        keys, values = m.to_numpy()
        assert keys.dtype == np.uint32 and values.dtype == np.uint64
        assert sorted(keys.tolist()) == list(range(count))
        assert (values == 3 * keys.astype(np.uint64) + 1).all()
        assert dict(zip(keys.tolist(), values.tolist(), strict=True)) == dict(m.items())


def test_to_numpy_of_per_cpu_values() -> None:
    with PerCpuArrayMap.create(
        MapType.PERCPU_ARRAY,
        4,
        4,
        3,
        key_type=ctypes.c_uint32,
        value_type=ctypes.c_uint32,
    ) as m:
        ncpus = len(m[0])
        m[1] = list(range(10, 10 + ncpus))
        keys, values = m.to_numpy()
        assert list(keys) == [0, 1, 2]
        assert values.shape == (3, ncpus)
        assert list(values["value"][1]) == list(range(10, 10 + ncpus))
        assert not values["value"][0].any()
