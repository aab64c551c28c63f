"""Forked workers with a time and a memory limit per task, restarted when one
hangs, crashes or grows.

Workers are forked from the parent after everything is imported, so a task costs
no start-up.  Each worker limits its address space (``RLIMIT_AS``) and arms an
interval timer per task whose signal raises :class:`Hang` where the code is stuck
(that place is the finding's location); a worker stuck where signals do not get
through is killed by the parent after a grace period.
"""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, Pipe, wait
from typing import Any

from .checks import Finding, location

Handler = Callable[[Any], dict[str, Any]]
HandlerFactory = Callable[[Callable[[str], None]], Handler]
_GRACE = 10.0  # seconds past the timer before the parent kills a worker


class Hang(BaseException):
    """Raised by the per-task timer (not an Exception: nothing may swallow it)."""


def _alarm(signum: int, frame: object) -> None:
    raise Hang


def _worker(
    conn: Connection, factory: HandlerFactory, timeout: float, memory: int
) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    signal.signal(signal.SIGALRM, _alarm)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    stage = ["start"]

    def report(name: str) -> None:
        stage[0] = name
        conn.send(("stage", name))

    handler = factory(report)
    while True:
        try:
            payload = conn.recv()
        except EOFError:
            return
        stage[0] = "start"
        signal.setitimer(signal.ITIMER_REAL, timeout)
        try:
            result = handler(payload)
        except Hang as exc:
            signal.setitimer(signal.ITIMER_REAL, 0)
            where = location(exc.__traceback__)
            result = {"findings": [Finding("hang", stage[0], where, "")]}
            result["restart"] = True
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        conn.send(("done", result))
        if result.get("restart"):
            return


@dataclass
class _Worker:
    pid: int
    conn: Connection
    tasks: int = 0
    payload: Any = None
    key: Any = None
    started: float = 0.0
    stage: str = "start"
    busy: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


class Pool:
    """``jobs`` workers running ``factory(report_stage)(payload)`` per task."""

    def __init__(
        self,
        factory: HandlerFactory,
        *,
        jobs: int,
        timeout: float,
        memory: int,
        restart_every: int = 400,
    ) -> None:
        self.factory = factory
        self.jobs = jobs
        self.timeout = timeout
        self.memory = memory
        self.restart_every = restart_every
        self.restarts = 0
        self.workers: list[_Worker] = []

    def _spawn(self) -> _Worker:
        parent, child = Pipe()
        pid = os.fork()
        if pid == 0:  # the worker
            parent.close()
            for w in self.workers:
                w.conn.close()
            code = 0
            try:
                _worker(child, self.factory, self.timeout, self.memory)
            except BaseException:
                code = 3
            finally:
                os._exit(code)
        child.close()
        return _Worker(pid, parent)

    def _retire(self, worker: _Worker, kill: bool) -> int:
        """Stop a worker; its wait status."""
        if kill:
            with contextlib.suppress(ProcessLookupError):
                os.kill(worker.pid, signal.SIGKILL)
        worker.conn.close()
        _, status = os.waitpid(worker.pid, 0)
        self.workers.remove(worker)
        return status

    def run(
        self, tasks: Iterable[tuple[Any, Any]]
    ) -> Iterator[tuple[Any, dict[str, Any]]]:
        """Results as ``(key, result)`` in completion order for ``(key, payload)``
        tasks; a hang or a crash is a result with a ``hang``/``crash`` finding."""
        pending = iter(tasks)
        exhausted = False
        while True:
            while len(self.workers) < self.jobs:
                self.workers.append(self._spawn())
            for worker in self.workers:
                if not worker.busy and not exhausted:
                    try:
                        key, payload = next(pending)
                    except StopIteration:
                        exhausted = True
                        break
                    worker.key, worker.payload, worker.busy = key, payload, True
                    worker.started, worker.stage = time.monotonic(), "start"
                    worker.conn.send(payload)
            busy = [w for w in self.workers if w.busy]
            if not busy:
                if exhausted:
                    return
                continue
            deadline = min(w.started for w in busy) + self.timeout + _GRACE
            ready = wait([w.conn for w in busy], max(0.0, deadline - time.monotonic()))
            for worker in busy:
                if worker.conn in ready:
                    yield from self._receive(worker)
                elif time.monotonic() > worker.started + self.timeout + _GRACE:
                    self._retire(worker, kill=True)
                    self.restarts += 1
                    finding = Finding("hang", worker.stage, "killed after timeout", "")
                    yield worker.key, {"findings": [finding]}

    def _receive(self, worker: _Worker) -> Iterator[tuple[Any, dict[str, Any]]]:
        try:
            kind, value = worker.conn.recv()
        except (EOFError, OSError):
            status = self._retire(worker, kill=True)
            self.restarts += 1
            how = (
                f"signal {os.WTERMSIG(status)}"
                if os.WIFSIGNALED(status)
                else f"exit {os.waitstatus_to_exitcode(status)}"
            )
            yield worker.key, {"findings": [Finding("crash", worker.stage, how, "")]}
            return
        if kind == "stage":
            worker.stage = value
            return
        worker.busy = False
        worker.tasks += 1
        if value.get("restart") or worker.tasks >= self.restart_every:
            self._retire(worker, kill=not value.get("restart"))
            if value.get("restart"):
                self.restarts += 1
        yield worker.key, value

    def close(self) -> None:
        for worker in list(self.workers):
            self._retire(worker, kill=True)
