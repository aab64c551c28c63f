"""Programs: options before load, the fd after, attach and test-run methods."""

from __future__ import annotations

import ctypes
import os
from dataclasses import dataclass

from . import attach as _attach
from .errors import AttachError, BPFError, LoadError, describe_errno
from .links import Link
from .sections import AttachType, ProgType
from .spec import ProgramSpec
from .sys import attr as a
from .sys import commands as cmd


@dataclass(frozen=True)
class TestRunResult:
    """What ``BPF_PROG_TEST_RUN`` returned."""

    retval: int
    data: bytes
    ctx: bytes
    duration_ns: int


class Program:
    """One program of an object."""

    def __init__(self, spec: ProgramSpec) -> None:
        self.spec = spec
        self._fd: int | None = None

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def section(self) -> str:
        return self.spec.section

    @property
    def prog_type(self) -> ProgType:
        if self.spec.kind is None:
            return ProgType.UNSPEC
        return self.spec.kind.prog_type

    @property
    def expected_attach_type(self) -> AttachType | None:
        return None if self.spec.kind is None else self.spec.kind.expected_attach_type

    @property
    def autoload(self) -> bool:
        return self.spec.autoload

    @autoload.setter
    def autoload(self, value: bool) -> None:
        self._before_load("autoload")
        self.spec.autoload = bool(value)

    @property
    def attach_target(self) -> str | None:
        """The hook: set by hand, or what the section name says."""
        if self.spec.attach_target is not None:
            return self.spec.attach_target
        return self.spec.kind.target if self.spec.kind is not None else None

    def set_attach_target(self, target: str, prog_fd: int | None = None) -> None:
        """Change the BTF attach target (fentry/fexit/tp_btf/lsm/freplace) before load."""
        self._before_load("the attach target")
        self.spec.attach_target = target
        self.spec.attach_prog_fd = prog_fd

    def _before_load(self, what: str) -> None:
        if self._fd is not None:
            raise LoadError(f"program {self.name}: {what} can only be changed before load",
                            program=self.name)

    @property
    def fd(self) -> int:
        if self._fd is None:
            raise BPFError(f"program {self.name} is not loaded")
        return self._fd

    @property
    def loaded(self) -> bool:
        return self._fd is not None

    def _set_fd(self, fd: int) -> None:
        self._fd = fd

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    # -- attach -----------------------------------------------------------------------

    def attach(self) -> Link:
        """Attach as the section name says (libbpf's ``bpf_program__attach``)."""
        link = _attach.auto_attach(self)
        if link is None:
            raise AttachError(
                f"attach {self.name}: section {self.section!r} does not say where to attach; "
                "use one of the attach_* methods",
                program=self.name,
            )
        return link

    def attach_tracepoint(self, category: str, name: str) -> Link:
        return _attach.attach_tracepoint(self, category, name)

    def attach_raw_tracepoint(self, name: str) -> Link:
        return _attach.attach_raw_tracepoint(self, name)

    def attach_perf_event(self, perf_fd: int) -> Link:
        return _attach.attach_perf_event(self, perf_fd)

    def attach_trace(self) -> Link:
        return _attach.attach_tracing(self)

    # -- test run ---------------------------------------------------------------------

    def test_run(self, data: bytes = b"", ctx: bytes | None = None, repeat: int = 0,
                 data_out_size: int | None = None, flags: int = 0, cpu: int = 0) -> TestRunResult:
        """Run the program once (or ``repeat`` times) in the kernel on chosen input."""
        data_in = ctypes.create_string_buffer(data, len(data)) if data else None
        out_size = data_out_size if data_out_size is not None else (len(data) + 256 if data else 0)
        data_out = ctypes.create_string_buffer(out_size) if out_size else None
        ctx_in = ctypes.create_string_buffer(ctx, len(ctx)) if ctx else None
        ctx_out = ctypes.create_string_buffer(len(ctx)) if ctx else None
        attr = a.TestRunAttr(
            prog_fd=self.fd,
            data_size_in=len(data),
            data_in=ctypes.addressof(data_in) if data_in else 0,
            data_size_out=out_size,
            data_out=ctypes.addressof(data_out) if data_out else 0,
            ctx_size_in=len(ctx) if ctx else 0,
            ctx_in=ctypes.addressof(ctx_in) if ctx_in else 0,
            ctx_size_out=len(ctx) if ctx else 0,
            ctx_out=ctypes.addressof(ctx_out) if ctx_out else 0,
            repeat=repeat,
            flags=flags,
            cpu=cpu,
        )
        try:
            cmd.prog_test_run(attr)
        except OSError as exc:
            raise BPFError(f"test_run {self.name}: {describe_errno(exc.errno or 0)}") from None
        return TestRunResult(
            retval=attr.retval,
            data=data_out.raw[: attr.data_size_out] if data_out else b"",
            ctx=ctx_out.raw[: attr.ctx_size_out] if ctx_out else b"",
            duration_ns=attr.duration,
        )

    def __repr__(self) -> str:
        state = f"fd={self._fd}" if self._fd is not None else "not loaded"
        return f"<Program {self.name} {self.section!r} {state}>"
