"""Running an example as its users do — ``examples/run.py NAME ARGS`` — in a child
process whose output the test reads line by line, with a bound on every wait."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import TracebackType

from build_cache import EXAMPLES

RUN = EXAMPLES / "run.py"


def command(name: str, skel_dir: Path, *args: str) -> list[str]:
    return [sys.executable, str(RUN), "--skel-dir", str(skel_dir), name, *args]


def environment() -> dict[str, str]:
    """Unbuffered output: each line reaches the test as the example prints it."""
    return dict(os.environ, PYTHONUNBUFFERED="1")


def run(
    name: str, skel_dir: Path, *args: str, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """An example that ends by itself."""
    return subprocess.run(
        command(name, skel_dir, *args),
        capture_output=True,
        text=True,
        env=environment(),
        timeout=timeout,
        check=False,
    )


class Running:
    """An example that runs until Ctrl-C: started on enter, interrupted on exit
    (killed if SIGINT does not end it within 30 s: VMs under TCG are slow)."""

    def __init__(self, name: str, skel_dir: Path, *args: str) -> None:
        self.args = command(name, skel_dir, *args)
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self.returncode: int | None = None
        self.stderr = ""

    def __enter__(self) -> Running:
        self.proc = subprocess.Popen(
            self.args,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=environment(),
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        return self

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for(self, pattern: str, timeout: float = 30) -> re.Match[str]:
        """The first line (from now on) that ``pattern`` matches; fails with what
        was printed, and stderr, if none comes in time or the example ends."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self._queue.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                self.stop()
                raise AssertionError(
                    f"example ended (status {self.returncode}) before {pattern!r}:\n"
                    + "\n".join(self.lines[-20:])
                    + f"\nstderr:\n{self.stderr}"
                )
            self.lines.append(line)
            match = re.search(pattern, line)
            if match:
                return match
        raise AssertionError(
            f"no line matched {pattern!r} within {timeout} s:\n"
            + "\n".join(self.lines[-20:])
        )

    def stop(self) -> int:
        """Ctrl-C, then the exit status."""
        if self.returncode is None:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            assert self.proc.stderr is not None
            self.stderr = self.proc.stderr.read()
            self.proc.stderr.close()
            self.returncode = self.proc.returncode
            self._reader.join(timeout=5)
            assert self.proc.stdout is not None
            self.proc.stdout.close()
        return self.returncode

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
