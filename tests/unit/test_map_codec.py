"""Map key/value conversions, on bytes: no kernel involved."""

from __future__ import annotations

import ctypes

import pytest
from skelgen_runtime import MapError
from skelgen_runtime.btf import types as bt
from skelgen_runtime.btf.btf import Btf
from skelgen_runtime.cdata.codec import (
    Codec,
    FdCodec,
    PerCpuCodec,
    PerCpuValues,
    btf_scalar_ctype,
)
from skelgen_runtime.kernel.cpus import parse_cpu_list


class Pair(ctypes.Structure):
    _fields_ = [
        ("a", ctypes.c_uint32),
        ("b", ctypes.c_int32),
        ("_pad", ctypes.c_uint64),
    ]


def test_integers_are_range_checked_and_little_endian() -> None:
    codec = Codec(ctypes.c_int16, 2, "key")
    assert codec.to_bytes(-2) == b"\xfe\xff"
    assert (codec.low, codec.high) == (-32768, 32767)
    with pytest.raises(MapError, match="40000 does not fit in c_short"):
        codec.to_bytes(40000)
    with pytest.raises(MapError, match="expected c_short, got str"):
        codec.to_bytes("1")
    assert codec.from_bytes(b"\x00\xfe\xff", 1) == -2


def test_untyped_data_is_bytes_or_a_sized_int() -> None:
    codec = Codec(None, 4, "value")
    assert codec.to_bytes(b"abcd") == b"abcd"
    assert codec.to_bytes(7) == b"\x07\x00\x00\x00"
    assert codec.to_bytes(-1) == b"\xff" * 4
    with pytest.raises(MapError, match="3 bytes given, 4 expected"):
        codec.to_bytes(b"abc")
    buffer = codec.new_buffer()
    codec.put(buffer, b"wxyz")
    assert codec.get(buffer) == b"wxyz"


def test_structures_round_trip_and_batches_decode() -> None:
    codec = Codec(Pair, 16, "value")
    assert codec.to_bytes(Pair(1, -1)) == b"\x01\0\0\0\xff\xff\xff\xff" + bytes(8)
    with pytest.raises(MapError, match="expected Pair, got c_uint"):
        codec.to_bytes(ctypes.c_uint32(1))
    array = codec.new_array(3)
    ctypes.memmove(array, b"".join(bytes(Pair(i, -i)) for i in range(3)), 48)
    decoded = codec.decode_array(array, 2)
    assert [(p.a, p.b) for p in decoded] == [(0, 0), (1, -1)]
    with pytest.raises(MapError, match="Pair is 16 bytes, the map's are 8"):
        Codec(Pair, 8, "value")


def test_per_cpu_values_are_padded_to_8_bytes() -> None:
    codec = PerCpuCodec(Codec(ctypes.c_uint32, 4, "value"), 3)
    assert codec.size == 24
    assert codec.to_bytes([1, 2, 3]) == b"".join(
        i.to_bytes(8, "little") for i in (1, 2, 3)
    )
    assert codec.to_bytes(5) == (5).to_bytes(8, "little") * 3
    with pytest.raises(MapError, match="2 per-CPU values given, 3 expected"):
        codec.to_bytes([1, 2])
    values = codec.from_bytes(codec.to_bytes([4, 9, 2]))
    assert isinstance(values, PerCpuValues) and values == [4, 9, 2]
    assert (values.sum(), values.max()) == (15, 9)


def test_per_cpu_structures_combine_field_by_field() -> None:
    values = PerCpuValues([Pair(1, 5), Pair(2, -7)])
    total = values.sum()
    assert isinstance(total, Pair) and (total.a, total.b) == (3, -2)
    assert (values.max().a, values.max().b) == (2, 5)


def test_fd_values_take_objects_with_an_fd() -> None:
    class Program:
        fd = 42

    codec = FdCodec(None, 4, "value")
    assert codec.to_bytes(Program()) == (42).to_bytes(4, "little")
    assert codec.scalar  # ids read back as ints


def test_btf_integer_types_become_ctypes() -> None:
    btf = Btf(
        [
            bt.Void(),
            bt.Int("unsigned int", 4, bt.IntEncoding(0), 0, 32),
            bt.Typedef("u32", 1),
            bt.Int("long", 8, bt.IntEncoding.SIGNED, 0, 64),
            bt.Struct("s", 4, []),
            bt.Int("_Bool", 1, bt.IntEncoding.BOOL, 0, 8),
        ],
        b"\0",
    )
    assert btf_scalar_ctype(btf, 2) is ctypes.c_uint32
    assert btf_scalar_ctype(btf, 3) is ctypes.c_int64
    assert btf_scalar_ctype(btf, 4) is None
    assert btf_scalar_ctype(btf, 5) is ctypes.c_bool
    assert btf_scalar_ctype(btf, 0) is None


def test_cpu_lists() -> None:
    assert parse_cpu_list("0-3,8,10-11\n") == [0, 1, 2, 3, 8, 10, 11]
    assert parse_cpu_list("0") == [0]
