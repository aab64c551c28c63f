"""Ring buffer consumer (``BPF_MAP_TYPE_RINGBUF``) in pure Python over mmap: the map
class; the record format is :mod:`..events.ring`.  We own the consumer position (page
0, mapped writable); the producer position and the data area are mapped read-only.
"""

from __future__ import annotations

import mmap

from ..events.decoder import EventDecoder
from ..events.ring import read_ring
from ..events.stream import EventStream
from ..lean.hints import Any, TypeVar
from ..sys.syscall import PAGE_SIZE
from .info import read_map_info
from .map import KeylessMap

E = TypeVar("E")


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

    def _describe(self) -> str:
        return f"ring buffer {self.name}"

    def _take(self, decoder: Any = None) -> list[E]:
        ring = self._mapping
        if ring is None:
            fd = self.fd  # MapError once closed
            ring = self._mapping = _Mapping(fd, read_map_info(fd).max_entries)
        if decoder is None:
            decoder = self._decoder
        if decoder is None:
            decoder = self._decoder = EventDecoder(self.value_type)
        read = read_ring(
            ring.data, ring.mask, ring.consumer[0], ring.producer[0], decoder
        )
        ring.consumer[0] = read.position
        return read.records

    def close(self) -> None:
        with self._shutting():
            if self._mapping is not None:
                self._mapping.close()
                self._mapping = None
            super().close()
