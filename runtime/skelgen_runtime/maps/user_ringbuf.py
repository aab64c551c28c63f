"""User ring buffer producer (``BPF_MAP_TYPE_USER_RINGBUF``): Python writes samples,
a BPF program drains them with ``bpf_user_ringbuf_drain()``.

The layout is the ring buffer's (see :mod:`..events.ring`) with the roles swapped: the
kernel owns the consumer position (mapped read-only here), we own the producer
position and the data area.  A sample is reserved with its header marked BUSY and the
producer position advanced past it; it is then written, and submitted by clearing
BUSY (or DISCARDed).  The kernel stops draining at a BUSY sample.
"""

from __future__ import annotations

import contextlib
import ctypes
import mmap
import select
import threading
import time

from ..cdata.codec import Codec
from ..errors import MapError
from ..events.ring import BUSY_BIT, DISCARD_BIT, HEADER_SIZE, record_stride
from ..events.wakeup import Wakeup
from ..lean.hints import Any, TypeVar
from ..sys.syscall import PAGE_SIZE
from .info import read_map_info
from .map import KeylessMap

E = TypeVar("E")


class UserRingSample:
    """Reserved space in a user ring buffer: fill ``data``, then ``submit()`` (or
    ``discard()``).  The kernel sees nothing — and stops at this sample — until then."""

    def __init__(
        self, ring: UserRingBuf[Any], header_index: int, data: memoryview
    ) -> None:
        self._ring = ring
        self._header = header_index
        self.data = data
        self.done = False

    def _finish(self, extra: int) -> None:
        with self._ring._lock:
            if self.done:
                raise MapError(
                    "this user ring buffer sample was already submitted, "
                    "or its buffer closed"
                )
            words = self._ring._words
            assert words is not None  # closing the ring finishes its samples
            # One 4-byte store: the kernel sees the whole length at once.
            words[self._header] = len(self.data) | extra
            self._ring._outstanding.discard(self)
            self.done = True
            self.data.release()

    def submit(self) -> None:
        self._finish(0)

    def discard(self) -> None:
        self._finish(DISCARD_BIT)


class UserRingBuf(KeylessMap[E]):
    """Producer of a user ring buffer; samples are ``event_type`` instances (or
    bytes of any length when it is None)."""

    verbs = "push or reserve"

    def __init__(self, spec: Any, key_type: Any = None, value_type: Any = None) -> None:
        super().__init__(spec, key_type, value_type)
        self._lock = threading.RLock()  # the producer position, the mapping
        self._wakeup = Wakeup(self._lock)
        self._outstanding: set[UserRingSample] = set()  # reserved, not submitted
        self._mapped: tuple[mmap.mmap, mmap.mmap] | None = None
        self._consumer: memoryview | None = None
        self._producer: memoryview | None = None
        self._data: memoryview | None = None
        self._words: memoryview | None = None
        self._size = 0
        self._codec: Codec | None = None

    def _open(self) -> tuple[memoryview, memoryview, memoryview, memoryview]:
        if self._mapped is None:
            size = read_map_info(self.fd).max_entries
            consumer_map = mmap.mmap(
                self.fd, PAGE_SIZE, mmap.MAP_SHARED, mmap.PROT_READ, offset=0
            )
            try:
                data_map = mmap.mmap(
                    self.fd, PAGE_SIZE + 2 * size, mmap.MAP_SHARED, offset=PAGE_SIZE
                )
            except BaseException:
                consumer_map.close()
                raise
            self._mapped = (consumer_map, data_map)
            self._size = size
            self._consumer = memoryview(consumer_map)[:8].cast("Q")
            self._producer = memoryview(data_map)[:8].cast("Q")
            self._data = memoryview(data_map)[PAGE_SIZE:]
            self._words = self._data.cast("I")
        assert self._consumer is not None and self._producer is not None
        assert self._data is not None and self._words is not None
        return self._consumer, self._producer, self._data, self._words

    def reserve(self, size: int, timeout: float | None = 0.0) -> UserRingSample:
        """Space for a sample of ``size`` bytes.  When the ring is full, wait up to
        ``timeout`` seconds (None: forever) for the kernel to drain it."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            sample = self._try_reserve(size)
            if sample is not None:
                return sample
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise MapError(
                    f"user ring buffer {self.name} is full ({size} bytes wanted)"
                )
            self._wait_writable(left)

    def _try_reserve(self, size: int) -> UserRingSample | None:
        with self._lock:
            consumer, producer, data, words = self._open()
            total = record_stride(size)
            if size < 1 or total > self._size:
                raise MapError(
                    f"user ring buffer {self.name}: a sample of {size} bytes cannot fit"
                )
            position = producer[0]
            if self._size - (position - consumer[0]) < total:
                return None
            offset = position & (self._size - 1)
            words[offset >> 2] = size | BUSY_BIT
            words[(offset >> 2) + 1] = 0
            producer[0] = position + total
            start = offset + HEADER_SIZE
            sample = UserRingSample(self, offset >> 2, data[start : start + size])
            self._outstanding.add(sample)
            return sample

    def _wait_writable(self, timeout: float | None) -> None:
        """Until the kernel drained some, ``timeout`` passed, or close() (MapError)."""
        with self._lock:
            if self._wakeup.closing:
                raise MapError(f"user ring buffer {self.name} is closing")
            generation = self._wakeup.generation
            self._wakeup.wait([self.fd], select.POLLOUT, timeout)
            if self._wakeup.generation != generation:
                raise MapError(
                    f"user ring buffer {self.name} was closed while waiting for room"
                )

    def push(self, value: E | bytes, timeout: float | None = 0.0) -> None:
        """Reserve, write and submit one sample holding ``value`` (an event, or
        bytes of any length when there is no event type)."""
        if self.value_type is None:
            if not isinstance(value, (bytes, bytearray)):
                raise MapError(
                    f"user ring buffer {self.name}: no event type; push bytes"
                )
            payload = bytes(value)
        else:
            if self._codec is None:
                what = f"user ring buffer {self.name}"
                self._codec = Codec(
                    self.value_type, ctypes.sizeof(self.value_type), what
                )
            payload = self._codec.to_bytes(value)
        sample = self.reserve(len(payload), timeout)
        with self._lock:
            if sample.done:
                raise MapError(f"user ring buffer {self.name} was closed")
            sample.data[:] = payload
            sample.submit()

    def _retype(self) -> None:
        super()._retype()
        self._codec = None

    @property
    def free_space(self) -> int:
        """Bytes the producer could still reserve (headers included)."""
        with self._lock:
            consumer, producer, _, _ = self._open()
            return self._size - (producer[0] - consumer[0])

    def close(self) -> None:
        """Wake the threads waiting for room (they raise MapError); samples not
        submitted are dropped (their ``data`` released)."""
        with self._lock:
            self._wakeup.shut()
            for sample in self._outstanding:
                sample.done = True
                # A buffer the application made from it (ctypes from_buffer) keeps
                # the memory, and its mapping, until it goes.
                with contextlib.suppress(BufferError):
                    sample.data.release()
            self._outstanding.clear()
            for view in (self._consumer, self._producer, self._words, self._data):
                if view is not None:
                    view.release()
            self._consumer = self._producer = self._data = self._words = None
            if self._mapped is not None:
                for region in self._mapped:
                    with contextlib.suppress(BufferError):
                        region.close()
                self._mapped = None
            super().close()
