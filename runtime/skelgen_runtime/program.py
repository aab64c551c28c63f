"""Programs: options before load, the fd after, attach and test-run methods."""

from __future__ import annotations

import ctypes
import errno
import os
from collections.abc import Sequence

from .errors import ENOTSUPP, AttachError, BPFError, LoadError, describe_errno
from .lean.hints import TYPE_CHECKING, Any, TypeVar
from .lean.records import dataclass
from .link.auto import MANUAL_METHODS, auto_attach
from .link.link import IterLink, Link
from .link.usdt_manager import UsdtManager
from .maps.map import Map
from .obj.spec import ProgramSpec
from .sys import attr as a, commands as cmd
from .uapi.bpf import AttachType, ProgType

if TYPE_CHECKING:
    import socket

    from .link.perf_event import PerfSamplingLink
    from .link.usdt import UsdtLink

L = TypeVar("L", bound=Link)

# Room for a program to grow the packet (bpf_xdp_adjust_tail, bpf_skb_change_tail).
TEST_RUN_GROWTH = 4096
# Program types whose test_run takes no ctx_out.
_CTX_NOT_WRITTEN_BACK = frozenset(
    {ProgType.SYSCALL, ProgType.RAW_TRACEPOINT, ProgType.RAW_TRACEPOINT_WRITABLE}
)
_TEST_RUN_HINTS = {
    ENOTSUPP: " (this program type cannot be test-run)",
    errno.ENOSPC: " (the output is larger than data_out_size)",
    errno.EINVAL: " (input too short or too long for this program type, or a bad flag)",
}


def _fd_of(obj: Map[Any, Any] | int) -> int:
    return obj if isinstance(obj, int) else obj.fd


@dataclass(frozen=True)
class TestRunResult:
    """What ``BPF_PROG_TEST_RUN`` returned."""

    retval: int
    data: bytes
    ctx: bytes
    duration_ns: int


class Program:
    """One program of an object."""

    def __init__(self, spec: ProgramSpec, usdt_manager: UsdtManager) -> None:
        self.spec = spec
        #: The USDT state of the program's object (its spec maps and spec ids).
        self.usdt_manager = usdt_manager
        self._fd: int | None = None
        # Every link made from this program, kept until detached: a link the caller
        # drops stays attached (as in libbpf) and the object's destroy() releases it.
        self._links: list[Link] = []
        #: Whether the object's attach() attaches this program (libbpf's autoattach).
        self.autoattach = True
        self._attach_program: Program | int | None = None  # set_attach_target
        #: Whether autoload was set by hand (load() then leaves it as it is).
        self.autoload_set = False

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
        self.autoload_set = True

    @property
    def attach_target(self) -> str | None:
        """The hook: set by hand, or what the section name says."""
        if self.spec.attach_target is not None:
            return self.spec.attach_target
        return self.spec.kind.target if self.spec.kind is not None else None

    def set_attach_target(
        self, target: str | Program | int, function: str | None = None
    ) -> None:
        """Change the BTF attach target before load.

        ``set_attach_target("func")``: a kernel function (fentry/fexit/tp_btf/lsm).
        ``set_attach_target(program, "func")``: a global function of a loaded BPF
        program (a ``Program`` or its fd), what freplace replaces."""
        self._before_load("the attach target")
        if isinstance(target, str):
            if function is not None:
                raise BPFError(
                    f"program {self.name}: set_attach_target(target, function): the "
                    "target is a BPF program (a Program or its fd), not a name"
                )
            self.spec.attach_target = target
            self._attach_program = None
            return
        if not function:
            raise BPFError(
                f"program {self.name}: set_attach_target(program, function) needs the "
                "name of the program's function"
            )
        self.spec.attach_target = function
        self._attach_program = target

    @property
    def attach_program_fd(self) -> int | None:
        """The fd of the BPF program this one attaches to (set_attach_target), or
        None when it attaches to the kernel."""
        target = self._attach_program
        return target.fd if isinstance(target, Program) else target

    def _before_load(self, what: str) -> None:
        if self._fd is not None:
            raise LoadError(
                f"program {self.name}: {what} can only be changed before load",
                program=self.name,
            )

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

    def _own(self, link: L) -> L:
        self._links = [known for known in self._links if known.attached]
        self._links.append(link)
        return link

    @property
    def links(self) -> list[Link]:
        """The links made from this program that are still attached."""
        return [link for link in self._links if link.attached]

    def detach_links(self) -> None:
        """Detach every link made from this program, including dropped ones."""
        links, self._links = self._links, []
        for link in links:
            link.detach()

    def auto_attach(self) -> Link | None:
        """Attach as the section name says, or return None when it says nothing usable
        (what an object's ``attach()`` does for each program)."""
        link = auto_attach(self)
        return None if link is None else self._own(link)

    def attach(self) -> Link:
        """Attach as the section name says (libbpf's ``bpf_program__attach``)."""
        link = self.auto_attach()
        if link is None:
            kind = self.spec.kind
            method = MANUAL_METHODS.get(kind.attach_kind) if kind else None
            how = (
                f"call {method}" if method else "this kind is not attached by a program"
            )
            raise AttachError(
                f"attach {self.name}: section {self.section!r} does not say where to attach; "
                f"{how}",
                program=self.name,
            )
        return link

    def attach_tracepoint(self, category: str, name: str) -> Link:
        from .link.perf_event import attach_tracepoint

        return self._own(attach_tracepoint(self, category, name))

    def attach_raw_tracepoint(self, name: str) -> Link:
        from .link.tracing import attach_raw_tracepoint

        return self._own(attach_raw_tracepoint(self, name))

    def attach_trace(self) -> Link:
        """fentry/fexit/fmod_ret/tp_btf/freplace: the target was chosen before load."""
        from .link.tracing import attach_trace

        return self._own(attach_trace(self))

    def attach_lsm(self) -> Link:
        from .link.tracing import attach_trace

        return self._own(attach_trace(self))

    def attach_kprobe(
        self,
        function: str,
        offset: int = 0,
        retprobe: bool = False,
        legacy: bool = False,
    ) -> Link:
        from .link.kprobe import attach_kprobe

        return self._own(attach_kprobe(self, function, offset, retprobe, legacy))

    def attach_kprobe_multi(
        self, functions: str | Sequence[str], retprobe: bool | None = None
    ) -> Link:
        """Many kernel functions on one link: a glob pattern or a list of names."""
        from .link.kprobe import attach_kprobe_multi

        return self._own(attach_kprobe_multi(self, functions, retprobe))

    def attach_ksyscall(self, name: str, retprobe: bool = False) -> Link:
        from .link.kprobe import attach_ksyscall

        return self._own(attach_ksyscall(self, name, retprobe))

    def attach_uprobe(
        self,
        binary: str,
        func_or_offset: str | int,
        pid: int = -1,
        retprobe: bool = False,
        legacy: bool = False,
    ) -> Link:
        """``binary``: a path, a library name (``libc.so.6``) or a program on $PATH;
        ``func_or_offset``: ``"func"``, ``"func+0x10"`` or a file offset; ``pid`` -1
        for every process."""
        from .link.uprobe import attach_uprobe

        return self._own(
            attach_uprobe(self, binary, func_or_offset, pid, retprobe, legacy)
        )

    def attach_uprobe_multi(
        self,
        binary: str,
        functions: str | Sequence[str | int],
        pid: int = -1,
        retprobe: bool | None = None,
    ) -> Link:
        """Many functions of ``binary`` on one link: a glob pattern or a list of names
        and file offsets; ``retprobe`` defaults to what the section says."""
        from .link.uprobe import attach_uprobe_multi

        return self._own(attach_uprobe_multi(self, binary, functions, pid, retprobe))

    def attach_usdt(
        self,
        binary: str,
        provider: str,
        name: str,
        pid: int = -1,
        cookie: int = 0,
        legacy: bool = False,
    ) -> UsdtLink:
        """Every site of USDT probe ``provider:name`` in ``binary`` (a path, a library
        name or a program on $PATH) on one link; ``pid`` -1 for every process, 0 for
        this one.  ``bpf_usdt_cookie()`` returns ``cookie``; ``legacy`` makes the
        uprobes through tracefs."""
        from .link.usdt import attach_usdt  # loaded when first used

        return self._own(attach_usdt(self, binary, provider, name, pid, cookie, legacy))

    def attach_perf_event(self, perf_fd: int) -> Link:
        """Attach to an open perf event; the link then owns ``perf_fd``."""
        from .link.perf_event import attach_perf_event

        return self._own(attach_perf_event(self, perf_fd))

    def attach_perf_sampling(
        self, freq: int = 0, cpu: int | None = None, *, period: int = 0
    ) -> PerfSamplingLink:
        """Sample ``freq`` times a second of CPU time (or every ``period`` ns), on CPU
        ``cpu`` or on every online CPU (``None``): a ``perf_event`` program, on one
        software cpu-clock event per CPU, released together."""
        from .link.perf_event import attach_perf_sampling

        return self._own(attach_perf_sampling(self, freq, period, cpu))

    def attach_xdp(self, interface: int | str, flags: int = 0) -> Link:
        from .link.xdp import attach_xdp

        return self._own(attach_xdp(self, interface, flags))

    def attach_tcx(
        self,
        interface: int | str,
        direction: str | None = None,
        flags: int = 0,
        relative_fd: int = 0,
        expected_revision: int = 0,
        legacy: bool = False,
    ) -> Link:
        from .link.tc import attach_tcx

        return self._own(
            attach_tcx(
                self,
                interface,
                direction,
                flags,
                relative_fd,
                expected_revision,
                legacy,
            )
        )

    def attach_netkit(self, interface: int | str) -> Link:
        from .link.tc import attach_netkit

        return self._own(attach_netkit(self, interface))

    def attach_socket(self, sock: socket.socket | int) -> Link:
        from .link.socket import attach_socket

        return self._own(attach_socket(self, sock))

    def attach_cgroup(
        self, cgroup: str | int, attach_type: AttachType | None = None
    ) -> Link:
        from .link.cgroup import attach_cgroup

        return self._own(attach_cgroup(self, cgroup, attach_type))

    def attach_netns(self, netns: str | int) -> Link:
        from .link.netns import attach_netns

        return self._own(attach_netns(self, netns))

    def attach_sockmap(
        self, sockmap: Map[Any, Any] | int, legacy: bool = False
    ) -> Link:
        from .link.sockmap import attach_sockmap

        return self._own(attach_sockmap(self, _fd_of(sockmap), legacy))

    def attach_netfilter(
        self, pf: int, hooknum: int, priority: int, flags: int = 0
    ) -> Link:
        from .link.netfilter import attach_netfilter

        return self._own(attach_netfilter(self, pf, hooknum, priority, flags))

    def attach_iter(
        self,
        map: Map[Any, Any] | int | None = None,
        *,
        cgroup: str | int | None = None,
        order: int = 0,
        tid: int = 0,
        pid: int = 0,
        pid_fd: int = 0,
    ) -> IterLink:
        """An iterator link; ``link.read()`` runs the iterator and returns its output.
        Map iterators take ``map``, cgroup ones ``cgroup`` (a path or fd) and ``order``;
        task iterators may be narrowed to one ``tid``, ``pid`` or ``pid_fd``."""
        from .link.iter import attach_iter

        return self._own(
            attach_iter(
                self,
                map_fd=None if map is None else _fd_of(map),
                cgroup=cgroup,
                order=order,
                tid=tid,
                pid=pid,
                pid_fd=pid_fd,
            )
        )

    # -- test run ---------------------------------------------------------------------

    def test_run(
        self,
        data: bytes = b"",
        ctx: bytes | None = None,
        repeat: int = 0,
        data_out_size: int | None = None,
        flags: int = 0,
        cpu: int = 0,
    ) -> TestRunResult:
        """Run the program in the kernel on chosen input (``BPF_PROG_TEST_RUN``):
        ``data`` is the packet, ``ctx`` the context bytes (``struct __sk_buff``,
        ``struct xdp_md``, a syscall program's argument struct...), ``repeat`` runs it
        that many times and averages the duration.  The result holds the return value,
        the output packet and context (a syscall program's context as it left it)."""
        syscall = self.prog_type == ProgType.SYSCALL
        if syscall and (data or repeat > 1):
            raise BPFError(
                f"test_run {self.name}: a syscall program runs once, on ctx only"
            )
        data_in = ctypes.create_string_buffer(data, len(data)) if data else None
        out_size = (
            data_out_size if data_out_size is not None else len(data) + TEST_RUN_GROWTH
        )
        out_size = out_size if data else 0
        data_out = ctypes.create_string_buffer(out_size) if out_size else None
        ctx_in = ctypes.create_string_buffer(ctx, len(ctx)) if ctx else None
        # The kernel writes a syscall program's context back into ctx_in, and
        # refuses a ctx_out for a raw tracepoint's (its arguments are read-only).
        ctx_out = (
            ctypes.create_string_buffer(len(ctx))
            if ctx and self.prog_type not in _CTX_NOT_WRITTEN_BACK
            else None
        )
        attr = a.TestRunAttr(
            prog_fd=self.fd,
            data_size_in=len(data),
            data_in=ctypes.addressof(data_in) if data_in else 0,
            data_size_out=out_size,
            data_out=ctypes.addressof(data_out) if data_out else 0,
            ctx_size_in=len(ctx) if ctx else 0,
            ctx_in=ctypes.addressof(ctx_in) if ctx_in else 0,
            ctx_size_out=len(ctx_out) if ctx_out else 0,
            ctx_out=ctypes.addressof(ctx_out) if ctx_out else 0,
            repeat=0 if syscall else repeat,
            flags=flags,
            cpu=cpu,
        )
        try:
            cmd.prog_test_run(attr)
        except OSError as exc:
            code = exc.errno or 0
            raise BPFError(
                f"test_run {self.name}: {describe_errno(code)}"
                f"{_TEST_RUN_HINTS.get(code, '')}"
            ) from None
        ctx_result = ctx_in if syscall else ctx_out
        return TestRunResult(
            retval=attr.retval,
            data=data_out.raw[: attr.data_size_out] if data_out else b"",
            ctx=ctx_result.raw[: len(ctx_result)] if ctx_result else b"",
            duration_ns=attr.duration,
        )

    def __repr__(self) -> str:
        state = f"fd={self._fd}" if self._fd is not None else "not loaded"
        return f"<Program {self.name} {self.section!r} {state}>"
