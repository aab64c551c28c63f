"""Ring buffer consumer (``BPF_MAP_TYPE_RINGBUF``) in pure Python over mmap.

Layout (kernel/bpf/ringbuf.c): page 0 holds the consumer position (we write it),
page 1 the producer position, then the data area mapped twice in a row so a record
that wraps around is still contiguous.  Each record starts with an 8-byte header: a
32-bit length whose top bits flag BUSY (being written) and DISCARD, then a page
offset; records are 8-byte aligned.  Positions only grow; ``position & mask`` is the
offset in the data area.
"""

from __future__ import annotations

import mmap
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from .event_decoder import EventDecoder, uniform_run
from .event_stream import EventStream
from .map_info import read_map_info
from .maps import KeylessMap
from .sys.syscall import PAGE_SIZE

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
        count = uniform_run(
            words, offset >> 2, stride >> 2, (producer - consumer) // stride
        )
        if count > 1:
            records += decoder.run(data, offset + HEADER_SIZE, count, stride, length)
        else:
            records.append(decoder.one(data, offset + HEADER_SIZE, length))
        consumer += count * stride
    return RingRead(records, consumer)


class _Mapping:
    """The three regions of a ring buffer map, mapped into this process."""

    def __init__(self, fd: int, size: int) -> None:
        self.mask = size - 1
        self._consumer_map = mmap.mmap(fd, PAGE_SIZE, mmap.MAP_SHARED, offset=0)
        try:
            self._data_map = mmap.mmap(
                fd,
                PAGE_SIZE + 2 * size,
                mmap.MAP_SHARED,
                mmap.PROT_READ,
                offset=PAGE_SIZE,
            )
        except BaseException:
            self._consumer_map.close()
            raise
        # Native 8-byte views: one load or store each, as the kernel expects.
        self.consumer = memoryview(self._consumer_map).cast("Q")
        self.producer = memoryview(self._data_map)[:8].cast("Q")
        self.data = memoryview(self._data_map)[PAGE_SIZE:]

    def close(self) -> None:
        for view in (self.consumer, self.producer, self.data):
            view.release()
        self._consumer_map.close()
        self._data_map.close()


class RingBuf(EventStream[E], KeylessMap[E]):
    """A ring buffer whose records decode into ``event_type`` (bytes when None).

    Read it with ``poll(callback, timeout)``, ``consume(callback)``, the batch API
    ``drain(timeout)``, ``for event in ringbuf`` or ``async for event in
    ringbuf.events()``; several ring buffers at once with an
    :class:`~.poller.EventPoller`.
    """

    verbs = "poll, consume, drain or iteration"

    def __init__(self, spec: Any, key_type: Any = None, value_type: Any = None) -> None:
        super().__init__(spec, key_type, value_type)
        self._mapping: _Mapping | None = None
        self._decoder: EventDecoder[E] | None = None

    @property
    def event_type(self) -> Any:
        """The class records decode into: the map's ``value_type``."""
        return self.value_type

    @event_type.setter
    def event_type(self, value: Any) -> None:
        self.value_type = value

    def _retype(self) -> None:
        super()._retype()
        self._decoder = None

    def fileno(self) -> int:
        return self.fd

    def _take(self) -> list[E]:
        ring = self._mapping
        if ring is None:
            ring = self._mapping = _Mapping(self.fd, read_map_info(self.fd).max_entries)
        decoder = self._decoder
        if decoder is None:
            decoder = self._decoder = EventDecoder(self.value_type)
        read = read_ring(
            ring.data, ring.mask, ring.consumer[0], ring.producer[0], decoder
        )
        ring.consumer[0] = read.position
        return read.records

    def close(self) -> None:
        if self._mapping is not None:
            self._mapping.close()
            self._mapping = None
        self._forget_waiter()
        super().close()
