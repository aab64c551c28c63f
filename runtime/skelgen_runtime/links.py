"""Links: what an attach returns, and what detaching releases."""

from __future__ import annotations

import os
from types import TracebackType

from .errors import AttachError, describe_errno
from .sys import commands as cmd


class Link:
    """An attachment of a program to a hook.

    Closing the link's fd detaches the program (unless the link is pinned).  Some
    attachments hold further fds, such as the perf event a tracepoint link sits on;
    they are released together.
    """

    def __init__(self, fd: int, program: str, kind: str, target: str,
                 extra_fds: tuple[int, ...] = ()) -> None:
        self._fd: int | None = fd
        self.program = program
        self.kind = kind
        self.target = target
        self._extra_fds = extra_fds

    @property
    def fd(self) -> int:
        if self._fd is None:
            raise AttachError(f"link of {self.program} is detached", program=self.program)
        return self._fd

    @property
    def attached(self) -> bool:
        return self._fd is not None

    def detach(self) -> None:
        """Release the attachment; calling it twice is harmless."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            os.close(fd)
        finally:
            for extra in self._extra_fds:
                os.close(extra)
            self._extra_fds = ()

    def pin(self, path: str) -> None:
        """Pin in bpffs: the attachment then outlives this process."""
        try:
            cmd.obj_pin(self.fd, path)
        except OSError as exc:
            raise AttachError(
                f"pin link of {self.program} at {path}: {describe_errno(exc.errno or 0)}",
                program=self.program, errno=exc.errno or 0,
            ) from None

    @classmethod
    def from_pinned(cls, path: str) -> Link:
        try:
            fd = cmd.obj_get(path)
        except OSError as exc:
            raise AttachError(f"open pinned link {path}: {describe_errno(exc.errno or 0)}",
                              errno=exc.errno or 0) from None
        return cls(fd, program="", kind="pinned", target=path)

    def __enter__(self) -> Link:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.detach()

    def __del__(self) -> None:
        # A link dropped without detach() must not leak its fd.
        if getattr(self, "_fd", None) is not None:
            self.detach()

    def __repr__(self) -> str:
        state = f"fd={self._fd}" if self._fd is not None else "detached"
        return f"<Link {self.program} {self.kind}:{self.target} {state}>"
