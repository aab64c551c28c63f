"""``bpf_printk()`` output, read from tracefs's ``trace_pipe`` (bcc's ``trace_fields``).

Reading ``trace_pipe`` consumes what it returns, for every reader on the machine:
two readers each see part of the lines.  Lines come from every program (and every
tracer) that writes to the kernel's trace buffer, not only the caller's.
"""

from __future__ import annotations

import errno
import os
import re
import select
import time
from collections.abc import Iterator

from ..closing import Closing
from ..errors import TracePipeError
from ..lean.records import dataclass

# "  python3-1234  (  1234) [001] d..31 12.345678: bpf_trace_printk: message"; the
# tgid column appears with the record-tgid option, the flags with irq-info (default).
_EVENT = re.compile(
    r"^\s*(?P<task>.*?)-(?P<pid>\d+)\s+(?:\(\s*[-\d]+\)\s+)?\[(?P<cpu>\d+)\]\s+"
    r"(?:(?P<flags>\S{4,5})\s+)?(?P<timestamp>\d+\.\d+):\s+(?P<function>[^:]+):\s?"
    r"(?P<message>.*)$"
)
_READ_SIZE = 65536


@dataclass(frozen=True)
class TraceEvent:
    """One line of ``trace_pipe``."""

    task: str  # the comm of the thread that wrote it
    pid: int  # its thread id
    cpu: int
    flags: str  # irqs-off, need-resched, hardirq/softirq, preempt depth: "d..31"
    timestamp: float  # seconds since boot (the trace clock)
    function: str  # "bpf_trace_printk" for bpf_printk()
    message: str  # what the program printed, without the newline


def parse_trace_line(line: str) -> TraceEvent | None:
    """The event of one ``trace_pipe`` line; None for other lines (lost-event
    notices such as ``CPU:1 [LOST 12 EVENTS]``)."""
    match = _EVENT.match(line.rstrip("\n"))
    if match is None:
        return None
    return TraceEvent(
        match["task"],
        int(match["pid"]),
        int(match["cpu"]),
        match["flags"] or "",
        float(match["timestamp"]),
        match["function"],
        match["message"],
    )


class TracePipe(Closing):
    """tracefs's ``trace_pipe``, open for reading::

        with TracePipe(timeout=1.0) as pipe:
            for event in pipe:           # ends after 1 s without a line
                print(event.pid, event.message)

    ``timeout`` None iterates until the pipe is closed.  ``path`` names another
    trace pipe (an instance's: ``/sys/kernel/tracing/instances/NAME/trace_pipe``).
    """

    def __init__(
        self, path: str | None = None, *, timeout: float | None = None
    ) -> None:
        self.timeout = timeout
        if path is None:
            # kernel.probes is the one place that knows where tracefs is mounted; it
            # costs its imports only to the caller that opens a pipe.
            from ..kernel.probes import tracefs_root

            try:
                path = os.path.join(tracefs_root(), "trace_pipe")
            except OSError as exc:
                raise TracePipeError(str(exc.strerror)) from None
        self.path = path
        try:
            self._fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError as exc:
            hint = " (needs root)" if exc.errno in (errno.EPERM, errno.EACCES) else ""
            raise TracePipeError(f"{path}: {exc.strerror}{hint}") from None
        self._buffer = b""
        self._poller = select.poll()
        self._poller.register(self._fd, select.POLLIN)

    @property
    def closed(self) -> bool:
        return self._fd < 0

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def read_line(self, timeout: float | None = None) -> str | None:
        """The next line (without its newline), waiting ``timeout`` seconds at most
        (None: as long as it takes); None if none came, or the pipe's writer has
        gone (end of file: a FIFO given as ``path``)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while b"\n" not in self._buffer:
            if self._fd < 0:
                raise TracePipeError(f"{self.path}: read from a closed trace pipe")
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            if self._poller.poll(None if left is None else left * 1000):
                try:
                    chunk = os.read(self._fd, _READ_SIZE)
                except BlockingIOError:  # woken, and another reader took the data
                    chunk = None
                except OSError as exc:
                    raise TracePipeError(f"{self.path}: {exc.strerror}") from None
                if chunk == b"":
                    return None
                self._buffer += chunk or b""
            elif deadline is not None and time.monotonic() >= deadline:
                return None
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line.decode("utf-8", "replace")

    def read_event(self, timeout: float | None = None) -> TraceEvent | None:
        """The next event line, parsed (other lines are skipped); None after
        ``timeout`` seconds without one."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            line = self.read_line(left)
            if line is None:
                return None
            event = parse_trace_line(line)
            if event is not None:
                return event

    def __iter__(self) -> Iterator[TraceEvent]:
        """Events until ``timeout`` seconds pass without one (forever if None)."""
        while (event := self.read_event(self.timeout)) is not None:
            yield event
