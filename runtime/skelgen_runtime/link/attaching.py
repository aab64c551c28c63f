"""What every attach function shares: the program it is given, and errors that say
what failed (program, kind, target, errno, a hint)."""

from __future__ import annotations

import ctypes
import errno
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from ..errors import AttachError, describe_errno, for_errno, privilege_hint
from ..features.requirements import missing_link
from ..kernel.probes import ProbeUnsupportedError
from ..lean.hints import Protocol
from ..obj.spec import ProgramSpec
from ..sys import commands as cmd
from ..uapi.bpf import AttachType, ProgType
from .link import Link, LoadedProgram


class AttachableProgram(LoadedProgram, Protocol):
    """A loaded program as the attach functions see it (:class:`~..program.Program`)."""

    @property
    def spec(self) -> ProgramSpec: ...

    @property
    def section(self) -> str: ...

    @property
    def prog_type(self) -> ProgType: ...

    @property
    def expected_attach_type(self) -> AttachType | None: ...

    @property
    def attach_target(self) -> str | None: ...


_HINTS = {
    errno.ENOENT: " (no such hook on this kernel)",
    errno.EINVAL: " (the kernel rejects this program, target or flags for this hook)",
    errno.EEXIST: " (something is already attached there)",
    errno.EBUSY: " (something is already attached there)",
    errno.ENODEV: " (no such device in this network namespace)",
    errno.EOPNOTSUPP: " (this kernel does not support this kind of attachment)",
}


def attach_error(
    program: AttachableProgram, kind: str, target: str, reason: str, code: int
) -> AttachError:
    cls = for_errno(AttachError, code)
    return cls(
        f"attach {program.name} ({kind} {target}): {reason}",
        program=program.name,
        errno=code,
    )


@contextmanager
def attaching(
    program: AttachableProgram,
    kind: str,
    target: str,
    attach_type: int | None = None,
) -> Iterator[None]:
    """Turn an OSError from the kernel into an AttachError that says what failed;
    with the ``attach_type`` of a link, one the kernel lacks is named as such."""
    try:
        yield
    except ProbeUnsupportedError as exc:
        raise attach_error(
            program, kind, target, exc.strerror or "", exc.errno or 0
        ) from None
    except AttachError as exc:  # a bad target, found before the kernel was asked
        raise attach_error(program, kind, target, str(exc), exc.errno or 0) from None
    except OSError as exc:
        code = exc.errno or 0
        missing = None if attach_type is None else missing_link(attach_type, code)
        if missing is not None:
            raise attach_error(program, kind, target, missing, code) from None
        hint = privilege_hint(code) or _HINTS.get(code, "")
        raise attach_error(
            program, kind, target, f"{describe_errno(code)}{hint}", code
        ) from None


def section_kind(program: AttachableProgram) -> str:
    """``fentry``, ``lsm.s``...: the section prefix names the kind in messages."""
    kind = program.spec.kind
    return kind.definition.prefix.rstrip("+") if kind is not None else program.section


def is_return_probe(program: AttachableProgram) -> bool:
    kind = program.spec.kind
    return kind is not None and kind.definition.prefix.startswith(("kret", "uret"))


def link_create(
    program: AttachableProgram,
    kind: str,
    target: str,
    target_fd: int,
    attach_type: int,
    flags: int = 0,
    tail: ctypes.Structure | None = None,
    link_class: type[Link] = Link,
) -> Link:
    with attaching(program, kind, target, attach_type):
        fd = cmd.link_create(program.fd, target_fd, attach_type, flags, tail)
    return link_class(fd, program.name, kind, target)


def expected_type(
    program: AttachableProgram,
    kind: str,
    target: str,
    allowed: Sequence[AttachType],
    why: str,
) -> AttachType:
    """The hook the section names, which must be one of ``allowed`` (else say ``why``)."""
    attach_type = program.expected_attach_type
    if attach_type is None or attach_type not in allowed:
        raise attach_error(
            program,
            kind,
            target,
            f"section {program.section!r}: {why}",
            errno.EINVAL,
        )
    return attach_type


def multi_probe(
    program: AttachableProgram, target: str, probe: str, retprobe: bool | None
) -> tuple[str, AttachType, bool]:
    """Kind, attach type and direction of a multi-probe link (``probe``: kprobe or
    uprobe); ``retprobe`` None means what the section says."""
    kind = section_kind(program)
    attach_type = expected_type(
        program,
        kind,
        target,
        (
            AttachType[f"TRACE_{probe.upper()}_MULTI"],
            AttachType[f"TRACE_{probe.upper()}_SESSION"],
        ),
        f"only {probe}.multi, {probe[0]}ret{probe[1:]}.multi and {probe}.session programs "
        "take many functions",
    )
    return (
        kind,
        attach_type,
        is_return_probe(program) if retprobe is None else retprobe,
    )


def interface_index(program: AttachableProgram, kind: str, interface: int | str) -> int:
    if isinstance(interface, int):
        return interface
    import socket  # programs that attach by interface name only

    try:
        return socket.if_nametoindex(interface)
    except OSError:  # carries no errno
        raise attach_error(
            program,
            kind,
            interface,
            "no such interface in this network namespace",
            errno.ENODEV,
        ) from None


@contextmanager
def target_fd(
    program: AttachableProgram, kind: str, target: str | int | None
) -> Iterator[int | None]:
    """An fd for a path (cgroup directory, netns file) held while attaching; an fd
    or None passes through."""
    if not isinstance(target, str):
        yield target
        return
    with attaching(program, kind, target):
        fd = os.open(target, os.O_RDONLY | os.O_CLOEXEC)
    try:
        yield fd
    finally:
        os.close(fd)


def attach_to_fd_of(
    program: AttachableProgram,
    kind: str,
    path_or_fd: str | int,
    attach_type: AttachType,
) -> Link:
    """Link to the object behind a path or an fd."""
    with target_fd(program, kind, path_or_fd) as fd:
        assert fd is not None
        return link_create(program, kind, str(path_or_fd), fd, attach_type)
