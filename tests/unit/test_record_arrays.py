"""Ring records as numpy arrays (events/arrays.py): the same records, positions and
padding as the object decoder gives, from bytes laid out as the kernel lays them."""

from __future__ import annotations

import ctypes

import pytest
from skelgen_runtime import MapError
from skelgen_runtime.events.arrays import ArrayDecoder, dtype_of
from skelgen_runtime.events.decoder import EventDecoder
from skelgen_runtime.events.ring import BUSY_BIT, DISCARD_BIT, read_ring
from test_ring_records import Event, event, ring

np = pytest.importorskip("numpy")


def both(
    data: memoryview, mask: int, end: int, start: int = 0
) -> tuple[list[int], int, list[int], int]:
    """(seqs, position) of the object decoder, then of the array decoder."""
    objects = read_ring(data, mask, start, end, EventDecoder(Event))
    arrays = ArrayDecoder(Event)
    read = read_ring(data, mask, start, end, arrays)  # type: ignore[arg-type]
    array = arrays.assemble(read.records)
    assert (array["value"] == 2 * array["seq"]).all()
    seqs = [e.seq for e in objects.records]
    return seqs, objects.position, array["seq"].tolist(), read.position


def test_runs_busy_and_discarded_records_as_the_object_decoder_reads_them() -> None:
    records = [(0, event(i)) for i in range(7)]
    records += [(DISCARD_BIT, event(7)), (0, event(8)), (0, event(9))]
    records += [(BUSY_BIT, event(10)), (0, event(11))]
    seqs, position, array_seqs, array_position = both(ring(records, 512), 511, 12 * 24)
    assert seqs == array_seqs == [0, 1, 2, 3, 4, 5, 6, 8, 9]
    assert position == array_position == 10 * 24


def test_records_that_wrap_around_the_ring_end() -> None:
    data = ring([(0, event(i)) for i in range(5)], size=128, start=96)
    seqs, _, array_seqs, _ = both(data, 127, 96 + 5 * 24, start=96)
    assert seqs == array_seqs == list(range(5))


def test_short_records_are_zero_padded() -> None:
    short = event(5)[:8]  # seq only
    decoder = ArrayDecoder(Event)
    read = read_ring(ring([(0, short), (0, short)]), 255, 0, 32, decoder)  # type: ignore[arg-type]
    array = decoder.assemble(read.records)
    assert array["seq"].tolist() == [5, 5] and array["value"].tolist() == [0, 0]


def test_left_over_decoded_records_come_first() -> None:
    decoder = ArrayDecoder(Event)
    chunk = decoder.run(bytes(Event(3, 6, 0)) * 2, 0, 2, 16, 16)[0]
    array = decoder.assemble([Event(1, 2, 0), Event(2, 4, 0), chunk])
    assert array["seq"].tolist() == [1, 2, 3, 3]
    assert ArrayDecoder(ctypes.c_uint64).assemble([7, 8]).tolist() == [7, 8]


def test_dtypes_of_c_types() -> None:
    class Comm(ctypes.Structure):
        _fields_ = [("pid", ctypes.c_uint32), ("comm", ctypes.c_char * 16)]

    dtype = dtype_of(Comm, 20, "records")
    assert dtype.names == ("pid", "comm") and dtype["comm"] == np.dtype("S16")
    assert dtype_of(None, 6, "keys") == np.dtype((np.void, 6))

    class Flags(ctypes.Structure):
        _fields_ = [("low", ctypes.c_uint32, 3), ("high", ctypes.c_uint32, 29)]

    with pytest.raises(MapError, match="Flags has no numpy dtype"):
        dtype_of(Flags, 4, "records")
    with pytest.raises(MapError, match="fixed-size records"):
        ArrayDecoder(None)


def test_char_arrays_are_strings_at_any_depth() -> None:
    """As the generated classes read them: ``char names[2][4]`` is two ``S4``, a
    nested structure's ``char comm[16]`` one ``S16``."""

    class Task(ctypes.Structure):
        _fields_ = [("comm", ctypes.c_char * 16)]

    class Record(ctypes.Structure):
        _fields_ = [("names", ctypes.c_char * 4 * 2), ("tasks", Task * 2)]

    dtype = dtype_of(Record, 40, "records")
    assert dtype["names"] == np.dtype(("S4", (2,)))
    assert dtype["tasks"].base["comm"] == np.dtype("S16")
    record = Record()
    record.names[1][:] = b"wxyz"
    record.tasks[1].comm = b"task"
    array = np.frombuffer(bytes(record), dtype)
    assert array["names"].tolist() == [[b"", b"wxyz"]]
    assert array["tasks"]["comm"].tolist() == [[b"", b"task"]]
    assert dtype_of(ctypes.c_char * 16, 16, "values") == np.dtype("S16")
