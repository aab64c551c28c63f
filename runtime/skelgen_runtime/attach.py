"""Attach a loaded program to its hook: one function per kind, plus auto-attach.

Every function returns a :class:`~.links.Link` and raises
:class:`~.errors.AttachError` naming the program, the kind, the target and errno.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from .errors import AttachError, AttachPermissionError, describe_errno, privilege_hint
from .links import Link
from .sections import AttachKind, AttachType
from .sys import commands as cmd
from .sys import perf
from .sys.syscall import perf_event_open

if TYPE_CHECKING:
    from .program import Program

TRACEFS_ROOTS = ("/sys/kernel/tracing", "/sys/kernel/debug/tracing")


@contextmanager
def _attaching(program: Program, kind: str, target: str) -> Iterator[None]:
    """Turn an OSError from the kernel into an AttachError that says what failed."""
    try:
        yield
    except OSError as exc:
        code = exc.errno or 0
        cls = AttachPermissionError if code == errno.EPERM else AttachError
        hint = privilege_hint(code) or _HINTS.get(code, "")
        raise cls(
            f"attach {program.name} ({kind} {target}): {describe_errno(code)}{hint}",
            program=program.name, errno=code,
        ) from None


_HINTS = {
    errno.ENOENT: " (no such hook on this kernel)",
    errno.EINVAL: " (the kernel rejects this program for this hook)",
    errno.EEXIST: " (something is already attached there)",
}


def tracefs_root() -> str:
    for root in TRACEFS_ROOTS:
        if os.path.isdir(os.path.join(root, "events")):
            return root
    raise OSError(errno.ENOENT, "tracefs is not mounted (mount -t tracefs tracefs /sys/kernel/tracing)")


def tracepoint_id(category: str, name: str) -> int:
    with open(os.path.join(tracefs_root(), "events", category, name, "id")) as f:
        return int(f.read())


def attach_perf_event(program: Program, perf_fd: int, kind: str = "perf_event",
                      target: str = "") -> Link:
    """Attach to an open perf event (takes ownership of ``perf_fd``)."""
    try:
        with _attaching(program, kind, target or f"perf fd {perf_fd}"):
            fd = cmd.link_create(program.fd, perf_fd, AttachType.PERF_EVENT)
    except AttachError:
        os.close(perf_fd)
        raise
    return Link(fd, program.name, kind, target, extra_fds=(perf_fd,))


def attach_tracepoint(program: Program, category: str, name: str) -> Link:
    target = f"{category}/{name}"
    with _attaching(program, "tracepoint", target):
        attr = perf.PerfEventAttr(
            type=perf.PERF_TYPE_TRACEPOINT, config=tracepoint_id(category, name),
            sample_period=1, wakeup_events=1,
        )
        perf_fd = perf_event_open(attr, -1, 0, -1, perf.PERF_FLAG_FD_CLOEXEC)
    return attach_perf_event(program, perf_fd, "tracepoint", target)


def attach_raw_tracepoint(program: Program, name: str) -> Link:
    with _attaching(program, "raw_tracepoint", name):
        fd = cmd.raw_tracepoint_open(program.fd, name)
    return Link(fd, program.name, "raw_tracepoint", name)


def attach_tracing(program: Program) -> Link:
    """fentry/fexit/fmod_ret/tp_btf/lsm: the target was fixed at load (BTF id)."""
    target = program.attach_target or ""
    with _attaching(program, "tracing", target):
        fd = cmd.raw_tracepoint_open(program.fd, None)
    return Link(fd, program.name, "tracing", target)


def _auto_tracepoint(program: Program, target: str) -> Link:
    category, sep, name = target.partition("/")
    if not sep or not name:
        raise AttachError(f"attach {program.name}: section {program.section!r} must be "
                          "tp/<category>/<name>", program=program.name)
    return attach_tracepoint(program, category, name)


_AUTO: dict[AttachKind, Callable[[Program, str], Link]] = {
    AttachKind.TRACEPOINT: _auto_tracepoint,
    AttachKind.RAW_TRACEPOINT: attach_raw_tracepoint,
    AttachKind.TRACING: lambda program, _target: attach_tracing(program),
    AttachKind.LSM: lambda program, _target: attach_tracing(program),
}


def auto_attach(program: Program) -> Link | None:
    """Attach as the section name says, or return None when it says nothing usable
    (no target, or a kind that needs a caller's argument such as an interface)."""
    kind = program.spec.kind
    if kind is None:
        return None
    target = program.attach_target if program.attach_target is not None else kind.target
    attach = _AUTO.get(kind.attach_kind)
    if attach is None or not target:
        return None
    return attach(program, target)
