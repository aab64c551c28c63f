"""Links: what an attach returns, and what detaching releases."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from contextlib import ExitStack

from ..closing import Closing
from ..errors import AttachError, describe_errno
from ..kernel.probes import LegacyProbe
from ..lean.hints import Protocol
from ..sys import attr as a, commands as cmd
from ..uapi.bpf import LinkType

_ITER_READ_SIZE = 64 * 1024


class LoadedProgram(Protocol):
    """A program in the kernel, as a link sees it (:class:`~..program.Program`)."""

    @property
    def name(self) -> str: ...

    @property
    def fd(self) -> int: ...


def _failure(what: str, exc: OSError, program: str | None = None) -> AttachError:
    code = exc.errno or 0
    return AttachError(f"{what}: {describe_errno(code)}", program=program, errno=code)


class Link(Closing):
    """An attachment of a program to a hook.

    Most attachments are BPF links: closing the link's fd detaches the program, unless
    the link is pinned.  Some hold more than the link, such as the perf event a
    tracepoint link sits on or the tracefs event of a legacy probe; ``release`` lists
    those steps, run in order after the link fd is closed.  A few attachments are no
    BPF link at all (a socket filter): ``fd`` is then None and ``release`` detaches.
    """

    def __init__(
        self,
        fd: int | None,
        program: str,
        kind: str,
        target: str,
        *,
        release: Sequence[Callable[[], None]] = (),
    ) -> None:
        self._fd = fd
        self.program = program
        self.kind = kind
        self.target = target
        self._release = list(release)
        self._attached = True
        self.pin_path: str | None = None
        for step in self._release:
            if isinstance(step, LegacyProbe):  # detached at exit, so it can go
                step.owned_by(self.detach)

    @property
    def fd(self) -> int:
        """The BPF link fd."""
        if not self._attached:
            raise AttachError(
                f"link of {self.program} ({self.kind}) is detached",
                program=self.program,
            )
        if self._fd is None:
            raise AttachError(
                f"{self.kind} attachment of {self.program} is not a BPF link",
                program=self.program,
            )
        return self._fd

    @property
    def attached(self) -> bool:
        return self._attached

    def close(self) -> None:
        self.detach()

    def detach(self) -> None:
        """Release the attachment; calling it twice is harmless.  A pinned link stays
        attached in the kernel until its pin is removed (:meth:`unpin`)."""
        if not self._attached:
            return
        self._attached = False
        fd, self._fd = self._fd, None
        release, self._release = self._release, []
        # Every step runs even if one fails; the link fd goes first.
        with ExitStack() as steps:
            for step in reversed(release):
                steps.callback(step)
            if fd is not None:
                os.close(fd)

    def update(self, program: LoadedProgram) -> None:
        """Swap the program behind this link for another of the same type, atomically."""
        try:
            cmd.link_update(self.fd, program.fd)
        except OSError as exc:
            raise _failure(
                f"update link of {self.program} ({self.kind} {self.target}) "
                f"to {program.name}",
                exc,
                self.program,
            ) from None
        self.program = program.name

    def pin(self, path: str) -> None:
        """Pin in bpffs: the attachment then outlives this process."""
        try:
            cmd.obj_pin(self.fd, path)
        except OSError as exc:
            raise _failure(
                f"pin link of {self.program} at {path}", exc, self.program
            ) from None
        self.pin_path = path

    def unpin(self) -> None:
        """Remove the pin made by :meth:`pin` (the link then lives as long as its fds)."""
        if self.pin_path is None:
            raise AttachError(
                f"link of {self.program} is not pinned", program=self.program
            )
        try:
            os.unlink(self.pin_path)
        except OSError as exc:
            raise _failure(f"unpin {self.pin_path}", exc, self.program) from None
        self.pin_path = None

    @classmethod
    def from_pinned(cls, path: str) -> Link:
        """Open a link pinned in bpffs; its ``kind`` is the kernel's link type."""
        try:
            fd = cmd.obj_get(path)
        except OSError as exc:
            raise _failure(f"open pinned link {path}", exc) from None
        if os.readlink(f"/proc/self/fd/{fd}") != "anon_inode:bpf-link":
            os.close(fd)
            raise AttachError(
                f"pinned object {path} is not a link (a map or a program?)"
            )
        info = a.BpfLinkInfo()
        try:
            cmd.obj_info(fd, info)
        except OSError as exc:
            os.close(fd)
            raise _failure(f"read link info of {path}", exc) from None
        try:
            kind = LinkType(info.type).name.lower()
        except ValueError:
            kind = f"link type {info.type}"
        link_class = IterLink if info.type == LinkType.ITER else Link
        link = link_class(fd, program=f"prog id {info.prog_id}", kind=kind, target=path)
        link.pin_path = path
        return link

    def __del__(self) -> None:
        # A link nobody references any more must not leak its fd.
        if getattr(self, "_attached", False):
            self.detach()

    def __repr__(self) -> str:
        if not self._attached:
            state = "detached"
        else:
            state = f"fd={self._fd}" if self._fd is not None else "attached"
        return (
            f"<{type(self).__name__} {self.program} {self.kind}:{self.target} {state}>"
        )


class IterLink(Link):
    """The link of a BPF iterator: each :meth:`read` runs the iterator once."""

    def read(self) -> bytes:
        """Open a new iterator instance and read all it writes."""
        try:
            iter_fd = cmd.iter_create(self.fd)
        except OSError as exc:
            raise _failure(
                f"open iterator of {self.program}", exc, self.program
            ) from None
        chunks = []
        try:
            while chunk := os.read(iter_fd, _ITER_READ_SIZE):
                chunks.append(chunk)
        except OSError as exc:
            raise _failure(
                f"read iterator of {self.program}", exc, self.program
            ) from None
        finally:
            os.close(iter_fd)
        return b"".join(chunks)

    def read_text(self) -> str:
        return self.read().decode("utf-8", "replace")
