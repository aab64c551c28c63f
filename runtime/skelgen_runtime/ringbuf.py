"""Ring buffer consumer (``BPF_MAP_TYPE_RINGBUF``) in pure Python over mmap.

Layout (kernel/bpf/ringbuf.c): page 0 holds the consumer position (we write it),
page 1 the producer position, then the data area mapped twice in a row so a record
that wraps around is still contiguous.  Each record starts with an 8-byte header:
a 32-bit length whose top bits flag BUSY (being written) and DISCARD, and a page
offset; records are 8-byte aligned.
"""

from __future__ import annotations

import ctypes
import mmap
import select
import struct
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

from .errors import MapError
from .maps import Map
from .memory import PAGE_SIZE

E = TypeVar("E")

BUSY_BIT = 1 << 31
DISCARD_BIT = 1 << 30
HEADER_SIZE = 8
_U64 = struct.Struct("<Q")
_U32 = struct.Struct("<I")


class RingBuf(Map[int, E], Generic[E]):
    """A ring buffer map whose records decode into ``event_type`` (bytes if None)."""

    def __init__(self, spec: Any, key_type: Any = None, value_type: Any = None) -> None:
        super().__init__(spec, key_type, value_type)
        self._consumer: mmap.mmap | None = None
        self._producer: mmap.mmap | None = None
        self._epoll: select.epoll | None = None
        self._mask = 0

    @property
    def event_type(self) -> Any:
        return self.value_type

    def _open(self) -> None:
        if self._consumer is not None:
            return
        size = self.spec.max_entries if self.loaded else 0
        size = max(size, PAGE_SIZE)
        size = 1 << (size - 1).bit_length()
        self._mask = size - 1
        self._consumer = mmap.mmap(self.fd, PAGE_SIZE, mmap.MAP_SHARED,
                                   mmap.PROT_READ | mmap.PROT_WRITE, offset=0)
        self._producer = mmap.mmap(self.fd, PAGE_SIZE + 2 * size, mmap.MAP_SHARED,
                                   mmap.PROT_READ, offset=PAGE_SIZE)
        self._epoll = select.epoll()
        self._epoll.register(self.fd, select.EPOLLIN)

    def _decode(self, data: memoryview) -> E:
        if self.value_type is None:
            return bytes(data)  # type: ignore[return-value]
        size = ctypes.sizeof(self.value_type)
        if len(data) < size:
            raw = bytes(data) + bytes(size - len(data))
            return self.value_type.from_buffer_copy(raw)  # type: ignore[no-any-return]
        return self.value_type.from_buffer_copy(data[:size])  # type: ignore[no-any-return]

    def consume(self, callback: Callable[[E], object] | None = None) -> int:
        """Hand every available record to ``callback``; returns how many were read.

        The consumer position is committed before a callback's exception propagates.
        """
        records = self.drain()
        if callback is not None:
            for record in records:
                callback(record)
        return len(records)

    def drain(self) -> list[E]:
        """Every record available now, decoded, in order."""
        self._open()
        assert self._consumer is not None and self._producer is not None
        consumer = _U64.unpack_from(self._consumer, 0)[0]
        producer = _U64.unpack_from(self._producer, 0)[0]
        out: list[E] = []
        data = memoryview(self._producer)[PAGE_SIZE:]
        mask = self._mask
        while consumer < producer:
            offset = consumer & mask
            header = _U32.unpack_from(data, offset)[0]
            if header & BUSY_BIT:
                break
            length = header & ~(BUSY_BIT | DISCARD_BIT)
            if not header & DISCARD_BIT:
                start = offset + HEADER_SIZE
                out.append(self._decode(data[start : start + length]))
            consumer += (length + HEADER_SIZE + 7) & ~7
        data.release()
        _U64.pack_into(self._consumer, 0, consumer)
        return out

    def _wait(self, timeout: float | None) -> None:
        self._open()
        assert self._epoll is not None
        self._epoll.poll(-1 if timeout is None else timeout)

    def poll(self, callback: Callable[[E], object] | None = None,
             timeout: float | None = None) -> int:
        """Wait up to ``timeout`` seconds for records, then consume them."""
        count = self.consume(callback)
        if count:
            return count
        self._wait(timeout)
        return self.consume(callback)

    def __iter__(self) -> Iterator[E]:  # type: ignore[override]
        """Records as they arrive, forever (stop with break or Ctrl-C)."""
        while True:
            records = self.drain()
            if records:
                yield from records
            else:
                self._wait(None)

    def close(self) -> None:
        for view in (self._consumer, self._producer):
            if view is not None:
                view.close()
        if self._epoll is not None:
            self._epoll.close()
        self._consumer = self._producer = self._epoll = None
        super().close()

    def lookup(self, key: Any) -> Any:
        raise MapError(f"ring buffer {self.name} has no keys; use poll() or consume()")
