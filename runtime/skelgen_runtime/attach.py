"""Attach a loaded program to its hook: one function per kind, plus auto-attach.

Every function returns a :class:`~.links.Link` that its program owns (so it is
released at the latest when the object is destroyed), and raises
:class:`~.errors.AttachError` naming the program, the kind, the target and errno.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import os
import platform
import socket
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from . import probes, uprobe
from .errors import AttachError, describe_errno, for_errno, privilege_hint
from .links import IterLink, Link
from .probes import ProbeEvent, ProbeUnsupportedError
from .sections import AttachKind, AttachType, ProgType
from .sys import attr as a
from .sys import commands as cmd

if TYPE_CHECKING:
    from .program import Program

# <asm-generic/socket.h>
SO_ATTACH_BPF = 50
SO_DETACH_BPF = 27
SO_ATTACH_REUSEPORT_EBPF = 52
SO_DETACH_REUSEPORT_BPF = 68

BPF_F_KPROBE_MULTI_RETURN = 1 << 0
BPF_F_UPROBE_MULTI_RETURN = 1 << 0

# XDP attach flags (<linux/if_link.h>)
XDP_FLAGS_UPDATE_IF_NOEXIST = 1 << 0
XDP_FLAGS_SKB_MODE = 1 << 1
XDP_FLAGS_DRV_MODE = 1 << 2
XDP_FLAGS_HW_MODE = 1 << 3

# The prefix of syscall entry points in the kernel, per architecture (libbpf's
# arch_specific_syscall_pfx()).
_SYSCALL_PREFIXES = {
    "x86_64": "x64",
    "i386": "ia32",
    "i686": "ia32",
    "aarch64": "arm64",
    "s390x": "s390",
    "ppc64le": "powerpc",
    "ppc64": "powerpc",
    "riscv64": "riscv",
    "loongarch64": "loongarch",
}

_HINTS = {
    errno.ENOENT: " (no such hook on this kernel)",
    errno.EINVAL: " (the kernel rejects this program, target or flags for this hook)",
    errno.EEXIST: " (something is already attached there)",
    errno.EBUSY: " (something is already attached there)",
    errno.ENODEV: " (no such device in this network namespace)",
    errno.EOPNOTSUPP: " (this kernel does not support this kind of attachment)",
}


def _error(
    program: Program, kind: str, target: str, reason: str, code: int
) -> AttachError:
    cls = for_errno(AttachError, code)
    return cls(
        f"attach {program.name} ({kind} {target}): {reason}",
        program=program.name,
        errno=code,
    )


@contextmanager
def _attaching(program: Program, kind: str, target: str) -> Iterator[None]:
    """Turn an OSError from the kernel into an AttachError that says what failed."""
    try:
        yield
    except ProbeUnsupportedError as exc:
        raise _error(
            program, kind, target, exc.strerror or "", exc.errno or 0
        ) from None
    except AttachError as exc:  # a bad target, found before the kernel was asked
        raise _error(program, kind, target, str(exc), exc.errno or 0) from None
    except OSError as exc:
        code = exc.errno or 0
        hint = privilege_hint(code) or _HINTS.get(code, "")
        raise _error(
            program, kind, target, f"{describe_errno(code)}{hint}", code
        ) from None


def _owned(program: Program, link: Link) -> Link:
    program._own(link)
    return link


def _section_kind(program: Program) -> str:
    """``fentry``, ``lsm.s``...: the section prefix names the kind in messages."""
    kind = program.spec.kind
    return kind.definition.prefix.rstrip("+") if kind is not None else program.section


def _link_create(
    program: Program,
    kind: str,
    target: str,
    target_fd: int,
    attach_type: int,
    flags: int = 0,
    tail: ctypes.Structure | None = None,
    link_class: type[Link] = Link,
) -> Link:
    with _attaching(program, kind, target):
        fd = cmd.link_create(program.fd, target_fd, attach_type, flags, tail)
    return _owned(program, link_class(fd, program.name, kind, target))


def _expected_type(
    program: Program, kind: str, target: str, allowed: Sequence[AttachType], why: str
) -> AttachType:
    """The hook the section names, which must be one of ``allowed`` (else say ``why``)."""
    attach_type = program.expected_attach_type
    if attach_type is None or attach_type not in allowed:
        raise _error(
            program,
            kind,
            target,
            f"section {program.section!r}: {why}",
            errno.EINVAL,
        )
    return attach_type


# -- perf events: tracepoints, kprobes, uprobes, sampling events -------------------------


def _attach_perf(program: Program, event: ProbeEvent, kind: str, target: str) -> Link:
    """Link ``program`` to a perf event; the link owns the event from then on."""
    release: list[Callable[[], None]] = [functools.partial(os.close, event.perf_fd)]
    if event.remove is not None:
        release.append(event.remove)
    try:
        with _attaching(program, kind, target):
            fd = cmd.link_create(program.fd, event.perf_fd, AttachType.PERF_EVENT)
    except BaseException:
        for step in release:
            step()
        raise
    return _owned(program, Link(fd, program.name, kind, target, release=release))


def attach_perf_event(program: Program, perf_fd: int) -> Link:
    """Attach to an open perf event; the link takes ownership of ``perf_fd``."""
    return _attach_perf(
        program, ProbeEvent(perf_fd), "perf_event", f"perf fd {perf_fd}"
    )


def attach_tracepoint(program: Program, category: str, name: str) -> Link:
    target = f"{category}/{name}"
    with _attaching(program, "tracepoint", target):
        perf_fd = probes.open_tracepoint(category, name)
    return _attach_perf(program, ProbeEvent(perf_fd), "tracepoint", target)


def attach_kprobe(
    program: Program,
    func: str,
    offset: int = 0,
    retprobe: bool = False,
    legacy: bool = False,
) -> Link:
    """A kprobe on ``func+offset`` (kretprobe on return); ``legacy`` forces tracefs."""
    kind = "kretprobe" if retprobe else "kprobe"
    target = f"{func}+{offset:#x}" if offset else func
    with _attaching(program, kind, target):
        event = probes.open_kprobe(func, offset, retprobe, legacy)
    return _attach_perf(program, event, kind, target)


@functools.lru_cache(maxsize=1)
def _has_syscall_wrappers(prefix: str) -> bool:
    wanted = f" __{prefix}_sys_bpf"
    try:
        with open("/proc/kallsyms") as f:
            return any(line.rstrip("\n").endswith(wanted) for line in f)
    except OSError:
        return True  # every kernel since 4.17 on the main architectures has them


def syscall_function(name: str) -> str:
    """The kernel function a ``ksyscall/<name>`` probe goes on (``__x64_sys_<name>``)."""
    prefix = _SYSCALL_PREFIXES.get(platform.machine())
    if prefix is not None and _has_syscall_wrappers(prefix):
        return f"__{prefix}_sys_{name}"
    return f"sys_{name}"


def attach_ksyscall(program: Program, name: str, retprobe: bool = False) -> Link:
    """A kprobe on the entry (or return) of system call ``name``."""
    return attach_kprobe(program, syscall_function(name), 0, retprobe)


def _multi_probe(
    program: Program, target: str, probe: str, retprobe: bool | None
) -> tuple[str, AttachType, bool]:
    """Kind, attach type and direction of a multi-probe link (``probe``: kprobe or
    uprobe); ``retprobe`` None means what the section says."""
    kind = _section_kind(program)
    attach_type = _expected_type(
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
        _is_return_probe(program) if retprobe is None else retprobe,
    )


def attach_kprobe_multi(
    program: Program, functions: str | Sequence[str], retprobe: bool | None = None
) -> Link:
    """One link on many kernel functions (a glob pattern or a list of names); needs a
    kernel with fprobes.  ``retprobe`` defaults to what the section says."""
    target = functions if isinstance(functions, str) else ",".join(functions)
    kind, attach_type, retprobe = _multi_probe(program, target, "kprobe", retprobe)
    with _attaching(program, kind, target):
        names = (
            probes.kernel_functions(functions)
            if isinstance(functions, str)
            else functions
        )
        if not names:
            raise AttachError(
                f"no kernel function matches {target!r}", errno=errno.ENOENT
            )
        raw_names = [ctypes.create_string_buffer(name.encode()) for name in names]
        syms = (ctypes.c_uint64 * len(raw_names))(*map(ctypes.addressof, raw_names))
        tail = a.KprobeMultiLinkTail(
            flags=BPF_F_KPROBE_MULTI_RETURN if retprobe else 0,
            cnt=len(raw_names),
            syms=ctypes.addressof(syms),
        )
        fd = cmd.link_create(program.fd, 0, attach_type, 0, tail)
    return _owned(program, Link(fd, program.name, kind, target))


def attach_uprobe(
    program: Program,
    binary: str,
    func_or_offset: str | int,
    pid: int = -1,
    retprobe: bool = False,
    legacy: bool = False,
) -> Link:
    """A uprobe on ``binary`` (a path, a library name, or a program on $PATH) at
    ``func_or_offset`` (``"func"``, ``"func+0x10"`` or a file offset); ``pid`` -1
    means every process, 0 this one."""
    kind = "uretprobe" if retprobe else "uprobe"
    target = f"{binary}:{func_or_offset}"
    with _attaching(program, kind, target):
        path = uprobe.find_binary(binary)
        if isinstance(func_or_offset, int):
            offset = func_or_offset
        else:
            offset = _offset_of(path, func_or_offset)
        event = probes.open_uprobe(path, offset, retprobe, pid, legacy)
    return _attach_perf(program, event, kind, target)


def attach_uprobe_multi(
    program: Program,
    binary: str,
    functions: str | Sequence[str | int],
    pid: int = -1,
    retprobe: bool | None = None,
) -> Link:
    """One link probing many functions of ``binary`` (kernel 6.6+): a glob pattern such
    as ``"malloc*"``, or a list of function names and file offsets.  ``pid`` -1 means
    every process, 0 this one; ``retprobe`` defaults to what the section says."""
    shown = functions if isinstance(functions, str) else ",".join(map(str, functions))
    target = f"{binary}:{shown}"
    kind, attach_type, retprobe = _multi_probe(program, target, "uprobe", retprobe)
    with _attaching(program, kind, target):
        path = uprobe.find_binary(binary)
        if isinstance(functions, str):
            offsets = [
                offset for _name, offset in uprobe.function_offsets(path, functions)
            ]
        else:
            offsets = [
                f if isinstance(f, int) else _offset_of(path, f) for f in functions
            ]
        raw_path = ctypes.create_string_buffer(os.fsencode(path))
        raw_offsets = (ctypes.c_uint64 * len(offsets))(*offsets)
        tail = a.UprobeMultiLinkTail(
            path=ctypes.addressof(raw_path),
            offsets=ctypes.addressof(raw_offsets),
            cnt=len(offsets),
            flags=BPF_F_UPROBE_MULTI_RETURN if retprobe else 0,
            pid=(
                os.getpid() if pid == 0 else max(pid, 0)
            ),  # the kernel's 0 is "every process"
        )
        fd = cmd.link_create(program.fd, 0, attach_type, 0, tail)
    return _owned(program, Link(fd, program.name, kind, target))


def _offset_of(path: str, function: str) -> int:
    ref = uprobe.parse_function(function)
    return uprobe.function_offset(path, ref.name) + ref.offset


# -- BTF-based and raw tracing -------------------------------------------------------------


def attach_raw_tracepoint(program: Program, name: str) -> Link:
    with _attaching(program, "raw_tracepoint", name):
        fd = cmd.raw_tracepoint_open(program.fd, name)
    return _owned(program, Link(fd, program.name, "raw_tracepoint", name))


def attach_trace(program: Program) -> Link:
    """fentry/fexit/fmod_ret/tp_btf/freplace/lsm: the target was fixed at load."""
    kind, target = _section_kind(program), program.attach_target or ""
    with _attaching(program, kind, target):
        fd = cmd.raw_tracepoint_open(program.fd, None)
    return _owned(program, Link(fd, program.name, kind, target))


def attach_iter(
    program: Program,
    *,
    map_fd: int | None = None,
    cgroup: str | int | None = None,
    order: int = 0,
    tid: int = 0,
    pid: int = 0,
    pid_fd: int = 0,
) -> IterLink:
    """An iterator link; ``read()`` on it runs the iterator.  Map iterators take
    ``map_fd``, cgroup ones ``cgroup`` (path or fd) and ``order``, task ones may be
    narrowed to one task."""
    target = program.attach_target or ""
    with _target_fd(program, "iter", cgroup) as cgroup_fd:
        info = a.IterLinkInfo()
        if map_fd is not None:
            info.map.map_fd = map_fd
        elif cgroup_fd is not None:
            info.cgroup.cgroup_fd, info.cgroup.order = cgroup_fd, order
        else:
            info.task.tid, info.task.pid, info.task.pid_fd = tid, pid, pid_fd
        tail = None
        if map_fd is not None or cgroup_fd is not None or tid or pid or pid_fd:
            tail = a.IterLinkTail(
                iter_info=ctypes.addressof(info), iter_info_len=ctypes.sizeof(info)
            )
        link = _link_create(
            program,
            "iter",
            target,
            0,
            AttachType.TRACE_ITER,
            tail=tail,
            link_class=IterLink,
        )
    assert isinstance(link, IterLink)
    return link


# -- networking ---------------------------------------------------------------------------


def _ifindex(program: Program, kind: str, interface: int | str) -> int:
    if isinstance(interface, int):
        return interface
    try:
        return socket.if_nametoindex(interface)
    except OSError:  # carries no errno
        raise _error(
            program,
            kind,
            interface,
            "no such interface in this network namespace",
            errno.ENODEV,
        ) from None


def attach_xdp(program: Program, interface: int | str, flags: int = 0) -> Link:
    """XDP on an interface (name or index, in the caller's network namespace)."""
    ifindex = _ifindex(program, "xdp", interface)
    return _link_create(program, "xdp", str(interface), ifindex, AttachType.XDP, flags)


def attach_tcx(
    program: Program,
    interface: int | str,
    direction: str | None = None,
    flags: int = 0,
    relative_fd: int = 0,
    expected_revision: int = 0,
) -> Link:
    """tc through a tcx link (kernel 6.6+); ``direction`` is ``"ingress"`` or ``"egress"``,
    by default what the section says.  ``flags``/``relative_fd`` order it among others.
    """
    if direction is None:
        attach_type = _expected_type(
            program,
            "tcx",
            str(interface),
            (AttachType.TCX_INGRESS, AttachType.TCX_EGRESS),
            "it says neither ingress nor egress; pass direction='ingress' or 'egress'",
        )
    elif direction in ("ingress", "egress"):
        attach_type = AttachType[f"TCX_{direction.upper()}"]
    else:
        raise _error(
            program,
            "tcx",
            str(interface),
            f"direction {direction!r} is neither 'ingress' nor 'egress'",
            errno.EINVAL,
        )
    kind = f"tcx {attach_type.name.removeprefix('TCX_').lower()}"
    ifindex = _ifindex(program, kind, interface)
    tail = a.TcxLinkTail(relative_fd=relative_fd, expected_revision=expected_revision)
    return _link_create(
        program, kind, str(interface), ifindex, attach_type, flags, tail
    )


def attach_netkit(program: Program, interface: int | str) -> Link:
    """A netkit device's primary or peer program, as the section says."""
    ifindex = _ifindex(program, "netkit", interface)
    attach_type = _expected_type(
        program,
        "netkit",
        str(interface),
        (AttachType.NETKIT_PRIMARY, AttachType.NETKIT_PEER),
        "only netkit/primary and netkit/peer programs attach to a netkit device",
    )
    return _link_create(program, "netkit", str(interface), ifindex, attach_type)


def attach_socket(program: Program, sock: socket.socket | int) -> Link:
    """A socket filter (``SO_ATTACH_BPF``) or reuseport selector on a socket; detaching
    removes it again.  The link holds its own reference to the socket."""
    reuseport = program.prog_type == ProgType.SK_REUSEPORT
    kind = "sk_reuseport" if reuseport else "socket"
    attach_opt, detach_opt = (
        (SO_ATTACH_REUSEPORT_EBPF, SO_DETACH_REUSEPORT_BPF)
        if reuseport
        else (SO_ATTACH_BPF, SO_DETACH_BPF)
    )
    sock_fd = sock if isinstance(sock, int) else sock.fileno()
    target = f"socket fd {sock_fd}"
    with _attaching(program, kind, target):
        # A duplicate keeps the socket ours to detach from, whatever the caller closes.
        held = socket.socket(fileno=os.dup(sock_fd))
        try:
            held.setsockopt(socket.SOL_SOCKET, attach_opt, program.fd)
        except BaseException:
            held.close()
            raise

    def detach() -> None:
        try:
            held.setsockopt(socket.SOL_SOCKET, detach_opt, 0)
        except OSError as exc:
            if exc.errno != errno.ENOENT:  # already replaced by another filter
                raise
        finally:
            held.close()

    return _owned(program, Link(None, program.name, kind, target, release=[detach]))


@contextmanager
def _target_fd(
    program: Program, kind: str, target: str | int | None
) -> Iterator[int | None]:
    """An fd for a path (cgroup directory, netns file) held while attaching; an fd
    or None passes through."""
    if not isinstance(target, str):
        yield target
        return
    with _attaching(program, kind, target):
        fd = os.open(target, os.O_RDONLY | os.O_CLOEXEC)
    try:
        yield fd
    finally:
        os.close(fd)


def _attach_to_fd_of(
    program: Program, kind: str, path_or_fd: str | int, attach_type: AttachType
) -> Link:
    """Link to the object behind a path or an fd."""
    with _target_fd(program, kind, path_or_fd) as fd:
        assert fd is not None
        return _link_create(program, kind, str(path_or_fd), fd, attach_type)


_CGROUP_TYPES = (
    *(t for t in AttachType if t.name.startswith("CGROUP_")),
    AttachType.LSM_CGROUP,
)


def attach_cgroup(
    program: Program, cgroup: str | int, attach_type: AttachType | None = None
) -> Link:
    """A cgroup program (skb, sock, sock_addr, sockopt, sysctl, dev, sockops,
    lsm_cgroup) on a cgroup v2 directory or its fd."""
    if attach_type is None:
        attach_type = _expected_type(
            program,
            "cgroup",
            str(cgroup),
            _CGROUP_TYPES,
            "it names no cgroup hook; pass attach_type, e.g. AttachType.CGROUP_INET_INGRESS",
        )
    kind = f"cgroup {attach_type.name.lower().removeprefix('cgroup_')}"
    return _attach_to_fd_of(program, kind, cgroup, attach_type)


def attach_netns(program: Program, netns: str | int) -> Link:
    """sk_lookup or flow_dissector on a network namespace (``/proc/<pid>/ns/net``,
    ``/run/netns/<name>``, or an fd)."""
    attach_type = _expected_type(
        program,
        "netns",
        str(netns),
        (AttachType.SK_LOOKUP, AttachType.FLOW_DISSECTOR),
        "only sk_lookup and flow_dissector programs attach to a network namespace",
    )
    return _attach_to_fd_of(program, attach_type.name.lower(), netns, attach_type)


def attach_sockmap(program: Program, map_fd: int) -> Link:
    """sk_skb or sk_msg on a sockmap/sockhash (kernel 6.10+)."""
    attach_type = _expected_type(
        program,
        "sockmap",
        f"map fd {map_fd}",
        (
            AttachType.SK_SKB_STREAM_PARSER,
            AttachType.SK_SKB_STREAM_VERDICT,
            AttachType.SK_SKB_VERDICT,
            AttachType.SK_MSG_VERDICT,
        ),
        "only sk_skb/stream_parser, sk_skb/stream_verdict, sk_skb/verdict and sk_msg "
        "programs attach to a sockmap",
    )
    return _link_create(program, "sockmap", f"map fd {map_fd}", map_fd, attach_type)


def attach_netfilter(
    program: Program, pf: int, hooknum: int, priority: int, flags: int = 0
) -> Link:
    """A netfilter hook of the caller's network namespace (``pf`` NFPROTO_*, ``hooknum``
    NF_INET_*; ``priority`` orders it among the hook's functions)."""
    target = f"pf {pf} hook {hooknum} priority {priority}"
    tail = a.NetfilterLinkTail(pf=pf, hooknum=hooknum, priority=priority, flags=flags)
    return _link_create(
        program, "netfilter", target, 0, AttachType.NETFILTER, tail=tail
    )


# -- auto-attach ----------------------------------------------------------------------------


def _is_return_probe(program: Program) -> bool:
    kind = program.spec.kind
    return kind is not None and kind.definition.prefix.startswith(("kret", "uret"))


def _auto_tracepoint(program: Program, target: str) -> Link:
    category, sep, name = target.partition("/")
    if not sep or not name:
        raise _error(
            program,
            "tracepoint",
            target,
            f"section {program.section!r} must be tp/<category>/<name>",
            errno.EINVAL,
        )
    return attach_tracepoint(program, category, name)


def _auto_kprobe(program: Program, target: str) -> Link:
    ref = uprobe.parse_function(target)
    if _is_return_probe(program) and ref.offset:
        raise _error(
            program, "kretprobe", target, "a kretprobe takes no offset", errno.EINVAL
        )
    return attach_kprobe(program, ref.name, ref.offset, _is_return_probe(program))


def _auto_uprobe(program: Program, target: str) -> Link:
    with _attaching(program, _section_kind(program), target):
        parsed = uprobe.parse_target(target)
    if _is_return_probe(program) and parsed.function.offset:
        raise _error(
            program, "uretprobe", target, "a uretprobe takes no offset", errno.EINVAL
        )
    function = target.partition(":")[2]  # FUNC[+OFFSET], resolved in attach_uprobe
    return attach_uprobe(
        program, parsed.binary, function, -1, _is_return_probe(program)
    )


def _auto_uprobe_multi(program: Program, target: str) -> Link:
    kind = _section_kind(program)
    with _attaching(program, kind, target):
        parsed = uprobe.parse_target(target)
    if parsed.function.offset:
        raise _error(
            program,
            kind,
            target,
            "a multi-uprobe pattern takes no offset",
            errno.EINVAL,
        )
    return attach_uprobe_multi(program, parsed.binary, parsed.function.name)


def _not_supported(program: Program, target: str) -> Link:
    raise _error(
        program,
        _section_kind(program),
        target,
        "this kind of attachment is not supported by skelgen_runtime yet",
        errno.EOPNOTSUPP,
    )


_AUTO: dict[AttachKind, Callable[[Program, str], Link]] = {
    AttachKind.TRACEPOINT: _auto_tracepoint,
    AttachKind.RAW_TRACEPOINT: attach_raw_tracepoint,
    AttachKind.TRACING: lambda program, _target: attach_trace(program),
    AttachKind.LSM: lambda program, _target: attach_trace(program),
    AttachKind.KPROBE: _auto_kprobe,
    AttachKind.KSYSCALL: lambda program, target: attach_ksyscall(
        program, target, _is_return_probe(program)
    ),
    AttachKind.UPROBE: _auto_uprobe,
    AttachKind.ITER: lambda program, _target: attach_iter(program),
    AttachKind.KPROBE_MULTI: lambda program, target: attach_kprobe_multi(
        program, target
    ),
    AttachKind.UPROBE_MULTI: _auto_uprobe_multi,
    AttachKind.USDT: _not_supported,
}

# What to call for kinds whose section cannot say where to attach.
MANUAL_METHODS: dict[AttachKind, str] = {
    AttachKind.TRACEPOINT: "attach_tracepoint(category, name)",
    AttachKind.RAW_TRACEPOINT: "attach_raw_tracepoint(name)",
    AttachKind.KPROBE: "attach_kprobe(function)",
    AttachKind.KSYSCALL: "attach_ksyscall(name)",
    AttachKind.KPROBE_MULTI: "attach_kprobe_multi(pattern)",
    AttachKind.UPROBE: "attach_uprobe(binary, function)",
    AttachKind.UPROBE_MULTI: "attach_uprobe_multi(binary, pattern)",
    AttachKind.PERF_EVENT: "attach_perf_event(perf_fd)",
    AttachKind.XDP: "attach_xdp(interface)",
    AttachKind.TCX: "attach_tcx(interface)",
    AttachKind.TC: "attach_tcx(interface, direction)",
    AttachKind.NETKIT: "attach_netkit(interface)",
    AttachKind.SOCKET: "attach_socket(sock)",
    AttachKind.CGROUP: "attach_cgroup(path)",
    AttachKind.SK_LOOKUP: "attach_netns(path)",
    AttachKind.FLOW_DISSECTOR: "attach_netns(path)",
    AttachKind.SK_SKB: "attach_sockmap(map)",
    AttachKind.SK_MSG: "attach_sockmap(map)",
    AttachKind.NETFILTER: "attach_netfilter(pf, hooknum, priority)",
    AttachKind.SYSCALL: "test_run(ctx=...)",
}


def auto_attach(program: Program) -> Link | None:
    """Attach as the section name says, or return None when it says nothing usable
    (no target, or a kind that needs a caller's argument such as an interface)."""
    kind = program.spec.kind
    if kind is None:
        return None
    target = program.attach_target
    attach = _AUTO.get(kind.attach_kind)
    if attach is None or not target:
        return None
    return attach(program, target)
