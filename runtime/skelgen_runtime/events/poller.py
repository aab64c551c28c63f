"""Several ring and perf buffers behind one epoll (libbpf's ``ring_buffer__add``).

poller = EventPoller()
poller.add(skel.maps.events, handle_event)
poller.add(skel.maps.errors, handle_error)
while True:
    poller.poll(timeout=1.0)

Threads: any number may call :meth:`EventPoller.poll`; each record goes to exactly one
of them.  A stream closed (``destroy()``) while in the poller leaves it, waking the
waiting threads; once the last one is gone they raise :class:`~..errors.MapError`.
:meth:`EventPoller.close` from any thread wakes them too (they raise
:class:`~..errors.BPFError`).
"""

from __future__ import annotations

import contextlib
import select
import threading
from collections.abc import Callable

from ..closing import Closing
from ..errors import BPFError, MapError
from ..lean.hints import Any, NamedTuple
from .stream import EventStream
from .wakeup import Wakeup


class _Entry(NamedTuple):
    stream: EventStream[Any]
    callback: Callable[[Any], object]
    on_close: Callable[[], object]  # what the stream runs when it closes


class EventPoller(Closing):
    """Waits on any number of event streams; each ready one hands its records to
    the callback it was added with."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._wakeup = Wakeup(self._lock)
        self._epoll = select.epoll()
        self._streams: dict[int, _Entry] = {}
        self._gone: list[EventStream[Any]] = []  # closed streams, not dropped yet
        self._emptied = False  # the last stream was closed
        self._closed = False
        try:
            self._epoll.register(self._wakeup.fd(), select.EPOLLIN)
        except BaseException:
            self.close()
            raise

    def add(self, stream: EventStream[Any], callback: Callable[[Any], object]) -> None:
        with self._lock:
            self._check_open()
            self._drop_gone()
            fd = stream.fileno()
            if fd in self._streams:
                raise BPFError(f"{stream!r} is already in this poller")

            def on_close() -> None:  # in the closing thread: no lock taken
                self._gone.append(stream)
                self._wakeup.notify()

            self._epoll.register(fd, select.EPOLLIN)
            self._streams[fd] = _Entry(stream, callback, on_close)
            stream._on_close(on_close)
            self._emptied = False

    def remove(self, stream: EventStream[Any]) -> None:
        with self._lock:
            for fd, entry in list(self._streams.items()):
                if entry.stream is stream:
                    self._forget(fd)
                    stream._on_close(entry.on_close, add=False)
                    return
        raise BPFError(f"{stream!r} is not in this poller")

    def _forget(self, fd: int) -> None:
        del self._streams[fd]
        # A closed stream's fd has left the epoll already.
        with contextlib.suppress(OSError):
            self._epoll.unregister(fd)

    def _drop_gone(self) -> None:
        """Drop the streams closed since last time (lock held)."""
        self._wakeup.clear()  # before reading _gone: a close after it notifies again
        while self._gone:
            stream = self._gone.pop()
            for fd, entry in list(self._streams.items()):
                if entry.stream is stream:
                    self._forget(fd)
                    self._emptied = not self._streams
        if self._emptied:
            self._wakeup.notify()  # every waiting thread is to see it

    def _check_open(self) -> None:
        if self._closed:
            raise BPFError("this event poller is closed")

    def poll(self, timeout: float | None = None) -> int:
        """Wait up to ``timeout`` seconds (None: forever) until a stream has
        records, then consume every ready stream; returns how many records were
        handled.  A callback's exception propagates once its stream is committed;
        Ctrl-C interrupts the wait."""
        with self._lock:
            self._check_open()
            self._drop_gone()
            if self._emptied:
                raise MapError("every stream of this event poller was closed")
            # Records left over from a callback that raised come first, without waiting.
            waiting = [
                fd for fd, entry in self._streams.items() if entry.stream.pending
            ]
            generation = self._wakeup.generation
            self._wakeup.enter()
        try:
            ready = self._epoll.poll(
                0.0 if waiting else -1 if timeout is None else max(0.0, timeout)
            )
        finally:
            with self._lock:
                self._wakeup.leave()
        with self._lock:
            if self._wakeup.generation != generation:
                raise BPFError("this event poller was closed while waiting")
            self._drop_gone()
            if self._emptied:
                raise MapError("every stream of this event poller was closed")
            chosen = [
                self._streams[fd]
                for fd in dict.fromkeys(waiting + [fd for fd, _ in ready])
                if fd in self._streams
            ]
        return sum(entry.stream.consume(entry.callback) for entry in chosen)

    def consume(self) -> int:
        """Consume every stream without waiting."""
        with self._lock:
            self._check_open()
            self._drop_gone()
            entries = list(self._streams.values())
        return sum(entry.stream.consume(entry.callback) for entry in entries)

    def fileno(self) -> int:
        """The epoll fd: readable when a stream has records (for other loops)."""
        return self._epoll.fileno()

    def close(self) -> None:
        """Wake the threads waiting in :meth:`poll` (they raise), then close."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            entries = list(self._streams.values())
            self._streams.clear()
            self._wakeup.shut()
            self._epoll.close()
        for entry in entries:
            entry.stream._on_close(entry.on_close, add=False)
