"""Ring and perf buffer records decoded from bytes laid out as the kernel lays them."""

from __future__ import annotations

import ctypes
import struct

from skelgen_runtime.events.decoder import EventDecoder, uniform_run
from skelgen_runtime.events.perf_ring import read_perf_ring
from skelgen_runtime.events.ring import BUSY_BIT, DISCARD_BIT, read_ring, record_stride
from skelgen_runtime.uapi.perf import PERF_RECORD_LOST, PERF_RECORD_SAMPLE


class Event(ctypes.Structure):
    _fields_ = [
        ("seq", ctypes.c_uint64),
        ("value", ctypes.c_uint32),
        ("flag", ctypes.c_uint32),
    ]


def ring(
    records: list[tuple[int, bytes]], size: int = 256, start: int = 0
) -> memoryview:
    """A ring buffer data area (mapped twice) holding ``records`` from ``start``:
    (header flags, payload)."""
    area = bytearray(size)
    position = start
    for flags, payload in records:
        stride = record_stride(len(payload))
        record = struct.pack("<II", len(payload) | flags, 0) + payload
        record += bytes(stride - len(record))
        for i, byte in enumerate(record):
            area[(position + i) % size] = byte
        position += stride
    return memoryview(bytes(area + area))


def event(seq: int) -> bytes:
    return bytes(Event(seq, seq * 2, 1))


def test_a_run_of_equal_records_decodes_in_order() -> None:
    data = ring([(0, event(i)) for i in range(12)], size=512)
    read = read_ring(data, 511, 0, 12 * 24, EventDecoder(Event))
    assert [(e.seq, e.value) for e in read.records] == [(i, 2 * i) for i in range(12)]
    assert read.position == 12 * 24


def test_reading_stops_at_a_busy_record_and_skips_discarded_ones() -> None:
    records = [
        (0, event(0)),
        (DISCARD_BIT, event(1)),
        (0, event(2)),
        (BUSY_BIT, event(3)),
    ]
    data = ring([*records, (0, event(4))])
    read = read_ring(data, 255, 0, 5 * 24, EventDecoder(Event))
    assert [e.seq for e in read.records] == [0, 2]
    assert read.position == 3 * 24  # the busy record is where the next read starts


def test_records_that_wrap_around_the_end_read_whole() -> None:
    data = ring([(0, event(i)) for i in range(4)], size=128, start=104)
    read = read_ring(data, 127, 104, 104 + 4 * 24, EventDecoder(Event))
    assert [e.seq for e in read.records] == list(range(4))


def test_variable_lengths_and_short_records() -> None:
    payloads = [b"x" * n for n in (1, 9, 9, 9, 30)]
    data = ring([(0, p) for p in payloads])
    end = sum(record_stride(len(p)) for p in payloads)
    assert read_ring(data, 255, 0, end, EventDecoder(None)).records == payloads
    short = read_ring(ring([(0, b"\x05")]), 255, 0, 16, EventDecoder(Event)).records[0]
    assert (short.seq, short.value) == (5, 0)  # zero-padded as C would read it
    numbers = read_ring(
        ring([(0, b"\x07" + bytes(7))] * 3), 255, 0, 48, EventDecoder(ctypes.c_uint64)
    )
    assert numbers.records == [7, 7, 7]


def test_uniform_run_finds_where_headers_change() -> None:
    words = memoryview(struct.pack("<10I", 5, 0, 5, 0, 5, 0, 6, 0, 5, 0)).cast("I")
    assert uniform_run(words, 0, 2, 5) == 3
    assert uniform_run(words, 0, 2, 3) == 3
    assert uniform_run(words, 6, 2, 2) == 1


def perf_sample(payload: bytes) -> bytes:
    raw = payload + bytes(-(len(payload) + 4) % 8)
    return struct.pack("<IHHI", PERF_RECORD_SAMPLE, 0, 12 + len(raw), len(raw)) + raw


def test_perf_ring_samples_lost_records_and_wrapping() -> None:
    records = [perf_sample(event(i)) for i in range(3)]
    records.insert(1, struct.pack("<IHHQQ", PERF_RECORD_LOST, 0, 24, 1, 17))
    records += [perf_sample(event(i)) for i in range(3, 6)]
    blob = b"".join(records)
    size = 256
    start = size - 40  # the first record wraps around the end
    area = bytearray(size)
    for i, byte in enumerate(blob):
        area[(start + i) % size] = byte
    read = read_perf_ring(
        memoryview(area), start + len(blob), start, EventDecoder(Event)
    )
    assert [e.seq for e in read.records] == list(range(6))
    assert read.lost == 17
    assert read.tail == start + len(blob)
