"""The perf ring's record format (``perf_event_header`` + body), decoded from bytes.  Pure.

A ring is a power-of-two number of data pages; records are 8-byte aligned and may wrap
around the end.  ``PERF_RECORD_SAMPLE`` records carry a u32 raw size then the bytes a
BPF program output; ``PERF_RECORD_LOST`` records count samples the kernel dropped.
"""

from __future__ import annotations

import struct

from ..errors import MapError
from ..lean.hints import Any, Generic, TypeVar
from ..lean.records import dataclass
from ..uapi.perf import PERF_RECORD_LOST, PERF_RECORD_SAMPLE
from .decoder import EventDecoder

E = TypeVar("E")

HEADER_SIZE = 8  # struct perf_event_header { u32 type; u16 misc; u16 size; }
SAMPLE_BODY = HEADER_SIZE + 4  # then u32 raw size, then the raw bytes
_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")
_TYPE_MASK = 0xFFFFFFFF


@dataclass
class PerfRingRead(Generic[E]):
    records: list[E]
    lost: int  # samples the kernel dropped, from PERF_RECORD_LOST records
    tail: int  # the new data_tail


def read_perf_ring(
    data: memoryview, head: int, tail: int, decoder: EventDecoder[E]
) -> PerfRingRead[E]:
    """Decode the records between ``tail`` and ``head`` of one ring's data area
    (a power-of-two number of bytes).  Pure.  Runs of identical sample headers are
    decoded at once; a record that wraps is copied together first."""
    size = len(data)
    mask = size - 1
    words = data.cast("Q")
    records: list[E] = []
    lost = 0
    while tail < head:
        offset = tail & mask
        header = words[offset >> 3]
        kind = header & _TYPE_MASK
        record_size = header >> 48
        if record_size < HEADER_SIZE:
            raise MapError(f"perf ring corrupt: a record of {record_size} bytes")
        if offset + record_size > size:
            buffer: Any = bytes(data[offset:]) + bytes(
                data[: offset + record_size - size]
            )
            at = 0
        else:
            buffer, at = data, offset
            if kind == PERF_RECORD_SAMPLE:
                fit = min(head - tail, size - offset) // record_size
                count = decoder.uniform_run(words, offset >> 3, record_size >> 3, fit)
                if count > 1:
                    length = _U32.unpack_from(data, offset + HEADER_SIZE)[0]
                    records += decoder.run(
                        data, offset + SAMPLE_BODY, count, record_size, length
                    )
                    tail += count * record_size
                    continue
        if kind == PERF_RECORD_SAMPLE:
            length = _U32.unpack_from(buffer, at + HEADER_SIZE)[0]
            records.append(decoder.one(buffer, at + SAMPLE_BODY, length))
        elif kind == PERF_RECORD_LOST:
            lost += _U64.unpack_from(buffer, at + HEADER_SIZE + 8)[0]  # after u64 id
        tail += record_size
    return PerfRingRead(records, lost, tail)
