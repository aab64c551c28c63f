"""What ring and perf buffers share: records handed out in batches, to callbacks, by
iteration or to asyncio, with waiting on one pollable fd.

A stream reads every record available, decodes it and commits the buffer position at
once (the kernel can reuse the space); records not yet handed out — those after a
callback that raised, or after a ``break`` out of iteration — wait in order for the
next call.

Threads: reading and committing happen under the stream's lock, so any number of
threads may poll one stream and each record goes to exactly one of them (callbacks
run outside the lock, in the thread that polled).  ``close()`` (``destroy()``) from any
thread wakes the threads blocked waiting, which raise :class:`~..errors.MapError`,
waits for a read in progress, then closes every fd.
"""

from __future__ import annotations

import contextlib
import itertools
import select
import threading
from collections.abc import AsyncIterator, Callable, Iterator

from ..errors import MapError
from ..lean.hints import TYPE_CHECKING, Any, Generic, TypeVar
from .wakeup import Wakeup

if TYPE_CHECKING:
    import numpy

E = TypeVar("E")


class EventStream(Generic[E]):
    """Base of :class:`~.ringbuf.RingBuf` and :class:`~.perfbuf.PerfEventArray`."""

    _pending: list[E] | None = None
    _unread: Iterator[E] | None = None  # the batch an iterator is going through

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lock = threading.RLock()  # the buffer position, pending records, fds
        self._wakeup = Wakeup(self._lock)

    # -- what a buffer provides -----------------------------------------------------------

    def _take(self, decoder: Any = None) -> list[E]:
        """Every record available now, decoded (by ``decoder``, else the buffer's
        own :class:`~.decoder.EventDecoder`); the buffer position is committed.
        Called with the lock held."""
        raise NotImplementedError

    @property
    def event_type(self) -> Any:
        """The class records decode into."""
        raise NotImplementedError

    def fileno(self) -> int:
        """An fd that polls readable when records are available."""
        raise NotImplementedError

    def _describe(self) -> str:
        """``"ring buffer events"``: for messages."""
        raise NotImplementedError

    @contextlib.contextmanager
    def _shutting(self) -> Iterator[None]:
        """For ``close()``: the block runs with the lock held, once every thread
        that waited on the buffer has been woken and has left."""
        with self._lock:
            self._wakeup.shut()
            yield

    def _on_close(self, callback: Callable[[], object], add: bool = True) -> None:
        """Have ``callback()`` run when the stream closes (``add=False``: no more).
        It runs in the closing thread and must not take locks."""
        with self._lock:
            if add:
                self._wakeup.add_callback(callback)
            else:
                self._wakeup.remove_callback(callback)

    @property
    def pending(self) -> int:
        """Records read from the buffer but not handed out yet."""
        with self._lock:
            self._collect_unread()
            return len(self._pending or ())

    def _collect_unread(self) -> None:
        """What an iterator left of its batch (after a ``break``) comes first."""
        if self._unread is not None:
            self._keep(list(self._unread))
            self._unread = None

    def _closed_error(self) -> MapError:
        return MapError(f"{self._describe()} was closed while waiting for records")

    # -- reading ----------------------------------------------------------------------------

    def _records(self, timeout: float | None, decoder: Any = None) -> list[E]:
        with self._lock:
            records = self._ready(decoder)
            if records or timeout == 0:
                return records
            if self._wakeup.closing:
                raise self._closed_error()
            generation = self._wakeup.generation
            # Sleep until the fd is readable, ``timeout`` passes or close() wakes us.
            # A signal (Ctrl-C) interrupts the sleep and raises from here.
            self._wakeup.wait([self.fileno()], select.POLLIN, timeout)
            if self._wakeup.generation != generation:
                raise self._closed_error()
            return self._ready(decoder)

    def _ready(self, decoder: Any = None) -> list[E]:
        """Records left over first, else what the buffer holds; lock held."""
        self._collect_unread()
        pending = self._pending
        if pending:
            self._pending = None
            return pending
        return self._take(decoder)

    def drain(self, timeout: float | None = 0.0) -> list[E]:
        """The batch API: every record available, decoded, in order.  With a
        ``timeout`` (seconds, None: forever), first wait that long for one."""
        return self._records(timeout)

    def drain_array(self, timeout: float | None = 0.0) -> numpy.ndarray[Any, Any]:
        """The batch API without a Python object per record: every record available,
        in order, as one numpy structured array of the event type's dtype (needs
        numpy: the ``[numpy]`` extra).  ``timeout`` as for :meth:`drain`."""
        from .arrays import ArrayDecoder

        decoder = ArrayDecoder(self.event_type)
        return decoder.assemble(self._records(timeout, decoder))

    def consume(self, callback: Callable[[E], object]) -> int:
        """Hand every available record to ``callback``; returns how many it got.

        If the callback raises, the exception propagates; the buffer position is
        already committed and the records after that one come first next time.
        """
        return self._deliver(self._records(0), callback)

    def poll(
        self, callback: Callable[[E], object], timeout: float | None = None
    ) -> int:
        """Wait up to ``timeout`` seconds (None: forever) for records, then hand
        them to ``callback`` as :meth:`consume` does; returns how many."""
        return self._deliver(self._records(timeout), callback)

    def _deliver(self, records: list[E], callback: Callable[[E], object]) -> int:
        for index, record in enumerate(records):
            try:
                callback(record)
            except BaseException:
                self._keep(records[index + 1 :])
                raise
        return len(records)

    def _keep(self, records: list[E]) -> None:
        if records:
            with self._lock:
                self._pending = records + (self._pending or [])

    def __iter__(self) -> Iterator[E]:
        """Records as they arrive, forever: stop with ``break`` (records not yet
        seen stay for the next read) or Ctrl-C."""
        # A chain over batches hands out records at C speed; the batch it is in
        # stays reachable as `_unread`, so a break loses nothing.
        return itertools.chain.from_iterable(self._batches())

    def _batches(self) -> Iterator[Iterator[E]]:
        while True:
            batch = iter(self._records(None))
            self._unread = batch
            yield batch

    async def events(self) -> AsyncIterator[E]:
        """``async for event in buffer.events()``: records as they arrive, waiting
        in the running loop (its reader on this buffer's fd), never blocking it."""
        import asyncio  # imported by asyncio programs already: costs them nothing

        loop = asyncio.get_running_loop()
        loop_thread = threading.get_ident()
        ready = asyncio.Event()
        registered = True

        def woken_by_close() -> None:
            nonlocal registered
            if threading.get_ident() == loop_thread:
                # Closed from the loop itself: drop the reader before the fd goes.
                loop.remove_reader(fd)
                registered = False
                ready.set()
            else:
                with contextlib.suppress(RuntimeError):  # the loop is closed
                    loop.call_soon_threadsafe(ready.set)

        with self._lock:
            fd = self.fileno()
            generation = self._wakeup.generation
            self._wakeup.add_callback(woken_by_close)
        loop.add_reader(fd, ready.set)
        try:
            while True:
                if self._wakeup.generation != generation:
                    raise self._closed_error()
                records = self._records(0)
                if not records:
                    ready.clear()
                    # A record that came since _records() keeps the fd readable:
                    # the loop's level-triggered reader sets `ready` again.
                    await ready.wait()
                    continue
                for index, record in enumerate(records):
                    try:
                        yield record
                    except GeneratorExit:
                        self._keep(records[index + 1 :])
                        raise
        finally:
            self._on_close(woken_by_close, add=False)
            if registered:
                loop.remove_reader(fd)

    def __aiter__(self) -> AsyncIterator[E]:
        return self.events()
