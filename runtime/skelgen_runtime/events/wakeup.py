"""Waking the threads that wait on a buffer when another thread closes it.

Closing an fd does not wake a thread blocked in ``poll()`` on it, and the fd number
may be handed out again at once.  So every wait also polls an eventfd of the buffer:
:meth:`Wakeup.shut` writes it, tells the asyncio waiters and pollers that asked, waits
until every blocked thread has left its ``poll()``, and only then lets the owner close
its fds.  The waits are short: the eventfd stays readable until it is closed.

All of it runs under the owner's lock (a ``threading.RLock``, also the lock of the
owner's state); the threads leaving release it while they block.
"""

from __future__ import annotations

import contextlib
import os
import select
import threading
from collections import Counter
from collections.abc import Callable

_COUNT = (1).to_bytes(8, "little")


class Wakeup:
    """The eventfd and the waiting threads of one buffer (or poller)."""

    def __init__(self, lock: threading.RLock) -> None:
        self._lock = lock
        self._left = threading.Condition(lock)
        self._fd_lock = (
            threading.Lock()
        )  # the eventfd's number, for notify() from anywhere
        self._fd: int | None = None
        self._waiting: Counter[int] = Counter()  # thread id → waits in progress
        self._callbacks: list[Callable[[], object]] = []
        self.closing = False
        self.generation = 0  # closes so far: a waiter compares it after waking

    def fd(self) -> int:
        """The eventfd (made on first use); call with the lock held."""
        with self._fd_lock:
            if self._fd is None:
                self._fd = os.eventfd(0, os.EFD_CLOEXEC | os.EFD_NONBLOCK)
            return self._fd

    def enter(self) -> int:
        """This thread is about to wait: the eventfd to poll with its fds.  Call
        with the lock held; :meth:`leave` when the wait is over."""
        fd = self.fd()
        self._waiting[threading.get_ident()] += 1
        return fd

    def leave(self) -> None:
        me = threading.get_ident()
        self._waiting[me] -= 1
        if self._waiting[me] <= 0:
            del self._waiting[me]
        self._left.notify_all()

    def wait(self, fds: list[int], events: int, timeout: float | None) -> None:
        """Block (lock released) until one of ``fds`` has ``events``, the eventfd is
        written or ``timeout`` seconds pass.  Call with the lock held."""
        waker = self.enter()
        self._lock.release()
        try:
            waiter = select.poll()  # one per wait: poll objects are not shareable
            for fd in fds:
                waiter.register(fd, events)
            waiter.register(waker, select.POLLIN)
            waiter.poll(None if timeout is None else max(0.0, timeout) * 1000)
        finally:
            self._lock.acquire()
            self.leave()

    def add_callback(self, callback: Callable[[], object]) -> None:
        """``callback()`` runs at :meth:`shut` (from the closing thread, lock held):
        for waiters that do not poll the eventfd (asyncio, :class:`EventPoller`).
        It must not take other locks."""
        self._callbacks.append(callback)

    def remove_callback(self, callback: Callable[[], object]) -> None:
        with contextlib.suppress(ValueError):
            self._callbacks.remove(callback)

    def notify(self) -> None:
        """Make the eventfd readable (from any thread, any lock held)."""
        with self._fd_lock:
            if self._fd is not None:
                with contextlib.suppress(BlockingIOError):
                    os.write(self._fd, _COUNT)

    def clear(self) -> None:
        """Make the eventfd unreadable again."""
        with self._fd_lock:
            if self._fd is not None:
                with contextlib.suppress(BlockingIOError):
                    os.read(self._fd, 8)

    def shut(self) -> None:
        """Wake every waiter and wait until the blocked threads have left; then the
        eventfd is closed and the owner may close its fds.  Call with the lock held.
        A thread closing from inside its own wait (a signal handler) is not waited
        for."""
        self.closing = True
        self.generation += 1
        try:
            self.notify()
            for callback in list(self._callbacks):
                callback()
            me = threading.get_ident()
            self._left.wait_for(lambda: not set(self._waiting) - {me})
        finally:
            with self._fd_lock:
                if self._fd is not None:
                    os.close(self._fd)
                    self._fd = None
            self._callbacks.clear()
            self.closing = False
