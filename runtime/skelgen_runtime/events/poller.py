"""Several ring and perf buffers behind one epoll (libbpf's ``ring_buffer__add``).

poller = EventPoller()
poller.add(skel.maps.events, handle_event)
poller.add(skel.maps.errors, handle_error)
while True:
    poller.poll(timeout=1.0)
"""

from __future__ import annotations

import select
from collections.abc import Callable
from typing import Any

from ..closing import Closing
from ..errors import BPFError
from .stream import EventStream


class EventPoller(Closing):
    """Waits on any number of event streams; each ready one hands its records to
    the callback it was added with."""

    def __init__(self) -> None:
        self._epoll = select.epoll()
        self._streams: dict[int, tuple[EventStream[Any], Callable[[Any], object]]] = {}

    def add(self, stream: EventStream[Any], callback: Callable[[Any], object]) -> None:
        fd = stream.fileno()
        if fd in self._streams:
            raise BPFError(f"{stream!r} is already in this poller")
        self._epoll.register(fd, select.EPOLLIN)
        self._streams[fd] = (stream, callback)

    def remove(self, stream: EventStream[Any]) -> None:
        fd = stream.fileno()
        self._epoll.unregister(fd)
        del self._streams[fd]

    def poll(self, timeout: float | None = None) -> int:
        """Wait up to ``timeout`` seconds (None: forever) until a stream has
        records, then consume every ready stream; returns how many records were
        handled.  A callback's exception propagates once its stream is committed;
        Ctrl-C interrupts the wait."""
        # Records left over from a callback that raised come first, without waiting.
        waiting = [fd for fd, (stream, _) in self._streams.items() if stream.pending]
        if waiting:
            timeout = 0.0
        ready = self._epoll.poll(-1 if timeout is None else max(0.0, timeout))
        handled = 0
        for fd in dict.fromkeys(waiting + [fd for fd, _ in ready]):
            stream, callback = self._streams[fd]
            handled += stream.consume(callback)
        return handled

    def consume(self) -> int:
        """Consume every stream without waiting."""
        return sum(
            stream.consume(callback) for stream, callback in self._streams.values()
        )

    def fileno(self) -> int:
        """The epoll fd: readable when a stream has records (for other loops)."""
        return self._epoll.fileno()

    def close(self) -> None:
        self._epoll.close()
        self._streams.clear()
