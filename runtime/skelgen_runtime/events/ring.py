"""The ring buffer's record format (``BPF_MAP_TYPE_RINGBUF``), decoded from bytes.  Pure.

Layout (kernel/bpf/ringbuf.c): page 0 holds the consumer position, page 1 the producer
position, then the data area mapped twice in a row so a record that wraps around is
still contiguous.  Each record starts with an 8-byte header: a 32-bit length whose top
bits flag BUSY (being written) and DISCARD, then a page offset; records are 8-byte
aligned.  Positions only grow; ``position & mask`` is the offset in the data area.
"""

from __future__ import annotations

from ..lean.hints import Generic, TypeVar
from ..lean.records import dataclass
from .decoder import EventDecoder

E = TypeVar("E")

BUSY_BIT = 1 << 31
DISCARD_BIT = 1 << 30
LENGTH_MASK = DISCARD_BIT - 1
HEADER_SIZE = 8


def record_stride(length: int) -> int:
    """Bytes a record of ``length`` payload bytes takes, header included."""
    return (length + HEADER_SIZE + 7) & ~7


@dataclass
class RingRead(Generic[E]):
    records: list[E]
    position: int  # where reading stopped: the new consumer position


def read_ring(
    data: memoryview,
    mask: int,
    consumer: int,
    producer: int,
    decoder: EventDecoder[E],
) -> RingRead[E]:
    """Decode the committed records between two positions.  Pure.

    ``data`` is the data area mapped twice (``2 * (mask + 1)`` bytes).  Reading stops
    at the producer position or at a record still BUSY; DISCARDed records are
    skipped.  A run of records with the same header length word is decoded at once.
    """
    words = data.cast("I")
    records: list[E] = []
    while consumer < producer:
        offset = consumer & mask
        header = words[offset >> 2]
        if header & BUSY_BIT:
            break
        length = header & LENGTH_MASK
        stride = record_stride(length)
        if header & DISCARD_BIT:
            consumer += stride
            continue
        count = decoder.uniform_run(
            words, offset >> 2, stride >> 2, (producer - consumer) // stride
        )
        if count > 1:
            records += decoder.run(data, offset + HEADER_SIZE, count, stride, length)
        else:
            records.append(decoder.one(data, offset + HEADER_SIZE, length))
        consumer += count * stride
    return RingRead(records, consumer)
