"""Perf buffer: ``BPF_MAP_TYPE_PERF_EVENT_ARRAY`` read through per-CPU perf rings.

As libbpf's ``perf_buffer``: for each online CPU a ``PERF_COUNT_SW_BPF_OUTPUT``
event is opened and its fd stored at that CPU's index of the map, so
``bpf_perf_event_output(ctx, &map, BPF_F_CURRENT_CPU, ...)`` lands in that CPU's
ring.  A ring is a control page (the kernel's ``data_head``, our ``data_tail``) and
data pages holding the records of :mod:`..events.perf_ring`.
"""

from __future__ import annotations

import mmap
import os
import select
from collections.abc import Callable, Iterable

from ..cdata.codec import is_scalar
from ..errors import MapError
from ..events.decoder import EventDecoder
from ..events.perf_ring import PerfRingRead, read_perf_ring
from ..events.stream import EventStream
from ..kernel.cpus import online_cpus
from ..lean.hints import Any, TypeVar
from ..sys import perf
from ..sys.syscall import PAGE_SIZE, ioctl
from ..uapi.perf import MMAP_DATA_HEAD, MMAP_DATA_TAIL, PERF_EVENT_IOC_ENABLE
from .map import KeylessMap

E = TypeVar("E")


class _CpuRing:
    """One CPU's perf event and its mapped ring."""

    def __init__(self, cpu: int, page_count: int) -> None:
        self.cpu = cpu
        self.fd = perf.open_bpf_output(cpu)
        try:
            self._map = mmap.mmap(
                self.fd, PAGE_SIZE * (1 + page_count), mmap.MAP_SHARED
            )
        except BaseException:
            os.close(self.fd)
            raise
        self.control = memoryview(self._map)[:PAGE_SIZE].cast("Q")
        self.data = memoryview(self._map)[PAGE_SIZE:]

    def read(self, decoder: EventDecoder[E]) -> PerfRingRead[E]:
        head = self.control[MMAP_DATA_HEAD // 8]
        tail = self.control[MMAP_DATA_TAIL // 8]
        read = read_perf_ring(self.data, head, tail, decoder)
        self.control[MMAP_DATA_TAIL // 8] = read.tail
        return read

    def close(self) -> None:
        self.control.release()
        self.data.release()
        self._map.close()
        os.close(self.fd)


class PerfEventArray(EventStream[E], KeylessMap[E]):
    """A perf event array read as a perf buffer: records decode into
    ``event_type`` (bytes when None), samples the kernel dropped are counted in
    ``lost`` and reported to ``lost_callback(cpu, count)``.

    A ``lost_callback`` that raises makes the read raise; the rings have moved on
    by then, so the records read wait, in order, for the next read of any kind
    (``drain_array()`` too), and the losses not yet reported are reported by the
    next read of the rings (``lost`` counts them at once)."""

    verbs = "open_buffer, poll, consume, drain or iteration"

    def __init__(self, spec: Any, key_type: Any = None, value_type: Any = None) -> None:
        super().__init__(spec, key_type, value_type)
        self._rings: list[_CpuRing] = []
        self._epoll: select.epoll | None = None
        self._event_type: Any = None
        self._decoder: EventDecoder[E] | None = None
        self.lost = 0
        self.lost_callback: Callable[[int, int], object] | None = None
        self._unreported: list[tuple[int, int]] = []  # (cpu, count) for lost_callback

    @property
    def event_type(self) -> Any:
        """The class records decode into.  Defaults to ``value_type`` unless that is
        a number type — the map definition's value is the perf event fd."""
        if self._event_type is not None:
            return self._event_type
        return None if is_scalar(self.value_type) else self.value_type

    @event_type.setter
    def event_type(self, value: Any) -> None:
        self._event_type = value

    def set_element_types(self, key_type: Any, value_type: Any) -> None:
        """A skeleton describes a perf buffer by its records (``--event-type``);
        its values stay the per-CPU perf event fds."""
        self.key_type = key_type
        self.event_type = value_type
        self._decoder = None

    def _retype(self) -> None:
        super()._retype()
        self._decoder = None

    def open_buffer(
        self,
        page_count: int = 64,
        lost_callback: Callable[[int, int], object] | None = None,
        cpus: Iterable[int] | None = None,
    ) -> None:
        """Open one ring of ``page_count`` pages (a power of two) per CPU (default:
        the online ones).  Reading opens it with the defaults if not done before."""
        with self._lock:
            self._open_buffer(page_count, lost_callback, cpus)

    def _open_buffer(
        self,
        page_count: int,
        lost_callback: Callable[[int, int], object] | None,
        cpus: Iterable[int] | None,
    ) -> None:
        if not self.loaded:
            raise MapError(f"perf buffer {self.name} is not loaded")
        if self._epoll is not None:
            raise MapError(f"perf buffer {self.name} is already open")
        if page_count < 1 or page_count & (page_count - 1):
            raise MapError(f"perf buffer {self.name}: page_count must be a power of 2")
        if lost_callback is not None:
            self.lost_callback = lost_callback
        epoll = select.epoll()
        try:
            for cpu in cpus if cpus is not None else online_cpus():
                if cpu >= self.spec.max_entries:
                    raise MapError(
                        f"perf buffer {self.name}: CPU {cpu} is beyond max_entries "
                        f"{self.spec.max_entries}"
                    )
                try:
                    ring = _CpuRing(cpu, page_count)
                except OSError as exc:
                    raise self._error(
                        f"open perf ring of CPU {cpu}", exc.errno or 0
                    ) from None
                self._rings.append(ring)
                self._put(cpu, ring.fd, 0)
                epoll.register(ring.fd, select.EPOLLIN)
                ioctl(ring.fd, PERF_EVENT_IOC_ENABLE, 0)
        except BaseException:
            epoll.close()
            self._close_rings()
            raise
        self._epoll = epoll

    def fileno(self) -> int:
        with self._lock:
            if self._epoll is None:
                self.open_buffer()
            assert self._epoll is not None
            return self._epoll.fileno()

    def _describe(self) -> str:
        return f"perf buffer {self.name}"

    def _take(self, decoder: Any = None) -> list[E]:
        if self._epoll is None:
            self.open_buffer()
        if decoder is None:
            decoder = self._decoder
        if decoder is None:
            decoder = self._decoder = EventDecoder(self.event_type)
        records: list[E] = []
        dropped: list[tuple[int, int]] = []
        for ring in self._rings:
            read = ring.read(decoder)
            records += read.records
            if read.lost:
                dropped.append((ring.cpu, read.lost))
                self.lost += read.lost
        # Losses a raising callback kept from being reported come first.
        dropped, self._unreported = self._unreported + dropped, []
        for index, (cpu, count) in enumerate(dropped):
            if self.lost_callback is None:
                break
            try:
                self.lost_callback(cpu, count)
            except BaseException:
                # The rings moved on: the records wait, as events, for the next read.
                self._unreported = dropped[index + 1 :]
                self._keep(decoder.as_events(records))
                raise
        return records

    def _close_rings(self) -> None:
        for ring in self._rings:
            if self.loaded:  # the map holds the event too: let it go
                self.delete(ring.cpu)
            ring.close()
        self._rings = []

    def close(self) -> None:
        with self._shutting():
            self._close_rings()
            if self._epoll is not None:
                self._epoll.close()
                self._epoll = None
            super().close()
