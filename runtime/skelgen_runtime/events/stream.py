"""What ring and perf buffers share: records handed out in batches, to callbacks, by
iteration or to asyncio, with waiting on one pollable fd.

A stream reads every record available, decodes it and commits the buffer position at
once (the kernel can reuse the space); records not yet handed out — those after a
callback that raised, or after a ``break`` out of iteration — wait in order for the
next call.
"""

from __future__ import annotations

import itertools
import select
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    import numpy

E = TypeVar("E")


class EventStream(Generic[E]):
    """Base of :class:`~.ringbuf.RingBuf` and :class:`~.perfbuf.PerfEventArray`."""

    _pending: list[E] | None = None
    _unread: Iterator[E] | None = None  # the batch an iterator is going through
    _waiter: select.poll | None = None

    # -- what a buffer provides -----------------------------------------------------------

    def _take(self, decoder: Any = None) -> list[E]:
        """Every record available now, decoded (by ``decoder``, else the buffer's
        own :class:`~.decoder.EventDecoder`); the buffer position is committed."""
        raise NotImplementedError

    @property
    def event_type(self) -> Any:
        """The class records decode into."""
        raise NotImplementedError

    def fileno(self) -> int:
        """An fd that polls readable when records are available."""
        raise NotImplementedError

    @property
    def pending(self) -> int:
        """Records read from the buffer but not handed out yet."""
        self._collect_unread()
        return len(self._pending or ())

    def _collect_unread(self) -> None:
        """What an iterator left of its batch (after a ``break``) comes first."""
        if self._unread is not None:
            self._keep(list(self._unread))
            self._unread = None

    def _forget_waiter(self) -> None:
        """The fd is going away (close)."""
        self._waiter = None

    # -- reading ----------------------------------------------------------------------------

    def _records(self, timeout: float | None, decoder: Any = None) -> list[E]:
        self._collect_unread()
        pending = self._pending
        if pending:
            self._pending = None
            return pending
        records = self._take(decoder)
        if not records and timeout != 0:
            self._wait(timeout)
            records = self._take(decoder)
        return records

    def _wait(self, timeout: float | None) -> None:
        """Sleep until the fd is readable or ``timeout`` seconds pass.  A signal
        (Ctrl-C) interrupts the sleep and raises from here."""
        if self._waiter is None:
            waiter = select.poll()
            waiter.register(self.fileno(), select.POLLIN)
            self._waiter = waiter
        self._waiter.poll(None if timeout is None else max(0.0, timeout) * 1000)

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
        ready = asyncio.Event()
        fd = self.fileno()
        loop.add_reader(fd, ready.set)
        try:
            while True:
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
            loop.remove_reader(fd)

    def __aiter__(self) -> AsyncIterator[E]:
        return self.events()
