"""The exception hierarchy of skelgen_runtime.

Every error the runtime raises derives from :class:`BPFError`.  Errors caused by a
missing privilege also derive from the built-in :class:`PermissionError`, so
``except PermissionError`` works for them as it does for files.
"""

from __future__ import annotations

import errno as errno_codes
import os

from .lean.hints import TypeVar

#: The kernel's internal "operation not supported" (not EOPNOTSUPP), which reaches
#: user space from some bpf() commands and has no name in libc.
ENOTSUPP = 524


class BPFError(Exception):
    """Base class of every error raised by skelgen_runtime."""


class ObjectError(BPFError):
    """The object file is not a usable BPF object (truncated, not ELF, no BTF...)."""


class LoadError(BPFError):
    """The kernel refused to load a program, a map or the object's BTF.

    ``log`` holds the verifier (or BTF) log; the message carries its last lines.
    """

    def __init__(
        self, message: str, *, program: str | None = None, log: str = "", errno: int = 0
    ) -> None:
        super().__init__(message)
        self.program = program
        self.log = log
        self.errno: int | None = errno


class AttachError(BPFError):
    """A program could not be attached to its hook."""

    def __init__(
        self, message: str, *, program: str | None = None, errno: int = 0
    ) -> None:
        super().__init__(message)
        self.program = program
        self.errno: int | None = errno


class MapError(BPFError):
    """A map operation failed (missing key, wrong size, kernel refusal...)."""

    def __init__(self, message: str, *, errno: int = 0) -> None:
        super().__init__(message)
        self.errno: int | None = errno


class SymbolError(BPFError):
    """Addresses cannot be turned into names: kallsyms unreadable or hiding its
    addresses, a process whose memory map is gone."""


class TracePipeError(BPFError):
    """tracefs's ``trace_pipe`` cannot be read (tracefs not mounted, no permission)."""


class BPFPermissionError(BPFError, PermissionError):
    """The kernel answered EPERM or EACCES for lack of privilege."""


class LoadPermissionError(LoadError, BPFPermissionError):
    """A load refused with EPERM."""


class AttachPermissionError(AttachError, BPFPermissionError):
    """An attach refused with EPERM."""


class MapPermissionError(MapError, BPFPermissionError):
    """A map operation refused with EPERM."""


CAP_SYS_ADMIN = 21
CAP_BPF = 39


def _has_bpf_capability() -> bool:
    """Whether this process holds CAP_BPF or CAP_SYS_ADMIN (root may have neither)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("CapEff:"):
                    effective = int(line.split()[1], 16)
                    return bool(effective & (1 << CAP_BPF | 1 << CAP_SYS_ADMIN))
    except OSError:
        pass
    return os.geteuid() == 0


def privilege_hint(err: int) -> str:
    """A short hint to append to a message for errno ``err``, or ``""``."""
    if err != errno_codes.EPERM:
        return ""
    if not _has_bpf_capability():
        return " (run as root, or grant CAP_BPF and CAP_PERFMON, plus CAP_NET_ADMIN for networking)"
    # Privileged already: the kernel itself forbids it (lockdown, a missing CONFIG,
    # a restricted program kind).
    return " (refused although privileged: this kernel does not allow it)"


def describe_errno(err: int) -> str:
    """``"EPERM: Operation not permitted"`` style text for an errno value."""
    if err == ENOTSUPP:  # the kernel's own errno, which libc has no name for
        return "ENOTSUPP: Operation not supported by the kernel"
    name = errno_codes.errorcode.get(err, f"errno {err}")
    return f"{name}: {os.strerror(err)}"


ErrorT = TypeVar("ErrorT", LoadError, AttachError, MapError)

_PERMISSION_VARIANTS: dict[type[BPFError], type[BPFError]] = {
    LoadError: LoadPermissionError,
    AttachError: AttachPermissionError,
    MapError: MapPermissionError,
}


def for_errno(base: type[ErrorT], code: int) -> type[ErrorT]:
    """``base``, or its PermissionError variant when the kernel answered EPERM."""
    if code == errno_codes.EPERM:
        return _PERMISSION_VARIANTS[base]  # type: ignore[return-value]
    return base
