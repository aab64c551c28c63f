"""Auto-attach: what a section name says about where its program attaches, as
libbpf's skeleton attach reads it.  Each kind's attach module is imported when a
program of that kind is first attached."""

from __future__ import annotations

import errno
from collections.abc import Callable

from ..lean.hints import TYPE_CHECKING
from ..obj.sections import AttachKind
from .attaching import (
    AttachableProgram,
    attach_error,
    attaching,
    is_return_probe,
    section_kind,
)

if TYPE_CHECKING:
    from .link import Link
    from .usdt_manager import UsdtProgram


def _auto_tracepoint(program: AttachableProgram, target: str) -> Link:
    category, sep, name = target.partition("/")
    if not sep or not name:
        raise attach_error(
            program,
            "tracepoint",
            target,
            f"section {program.section!r} must be tp/<category>/<name>",
            errno.EINVAL,
        )
    from .perf_event import attach_tracepoint

    return attach_tracepoint(program, category, name)


def _auto_raw_tracepoint(program: AttachableProgram, target: str) -> Link:
    from .tracing import attach_raw_tracepoint

    return attach_raw_tracepoint(program, target)


def _auto_trace(program: AttachableProgram, _target: str) -> Link:
    from .tracing import attach_trace

    return attach_trace(program)


def _auto_kprobe(program: AttachableProgram, target: str) -> Link:
    from .binaries import parse_function
    from .kprobe import attach_kprobe

    ref = parse_function(target)
    if is_return_probe(program) and ref.offset:
        raise attach_error(
            program, "kretprobe", target, "a kretprobe takes no offset", errno.EINVAL
        )
    return attach_kprobe(program, ref.name, ref.offset, is_return_probe(program))


def _auto_ksyscall(program: AttachableProgram, target: str) -> Link:
    from .kprobe import attach_ksyscall

    return attach_ksyscall(program, target, is_return_probe(program))


def _auto_kprobe_multi(program: AttachableProgram, target: str) -> Link:
    from .kprobe import attach_kprobe_multi

    return attach_kprobe_multi(program, target)


def _auto_uprobe(program: AttachableProgram, target: str) -> Link:
    from .binaries import parse_target
    from .uprobe import attach_uprobe

    with attaching(program, section_kind(program), target):
        parsed = parse_target(target)
    if is_return_probe(program) and parsed.function.offset:
        raise attach_error(
            program, "uretprobe", target, "a uretprobe takes no offset", errno.EINVAL
        )
    function = target.partition(":")[2]  # FUNC[+OFFSET], resolved in attach_uprobe
    return attach_uprobe(program, parsed.binary, function, -1, is_return_probe(program))


def _auto_uprobe_multi(program: AttachableProgram, target: str) -> Link:
    from .binaries import parse_target
    from .uprobe import attach_uprobe_multi

    kind = section_kind(program)
    with attaching(program, kind, target):
        parsed = parse_target(target)
    if parsed.function.offset:
        raise attach_error(
            program,
            kind,
            target,
            "a multi-uprobe pattern takes no offset",
            errno.EINVAL,
        )
    return attach_uprobe_multi(program, parsed.binary, parsed.function.name)


def _auto_iter(program: AttachableProgram, _target: str) -> Link:
    from .iter import attach_iter

    return attach_iter(program)


def _auto_usdt(program: UsdtProgram, target: str) -> Link:
    from .usdt import attach_usdt, parse_usdt_target  # loaded when first used

    binary, provider, name = parse_usdt_target(program, target)
    return attach_usdt(program, binary, provider, name)


_AUTO: dict[AttachKind, Callable[[UsdtProgram, str], Link]] = {
    AttachKind.TRACEPOINT: _auto_tracepoint,
    AttachKind.RAW_TRACEPOINT: _auto_raw_tracepoint,
    AttachKind.TRACING: _auto_trace,
    AttachKind.LSM: _auto_trace,
    AttachKind.KPROBE: _auto_kprobe,
    AttachKind.KSYSCALL: _auto_ksyscall,
    AttachKind.UPROBE: _auto_uprobe,
    AttachKind.ITER: _auto_iter,
    AttachKind.KPROBE_MULTI: _auto_kprobe_multi,
    AttachKind.UPROBE_MULTI: _auto_uprobe_multi,
    AttachKind.USDT: _auto_usdt,
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
    AttachKind.USDT: "attach_usdt(binary, provider, name)",
    AttachKind.PERF_EVENT: "attach_perf_sampling(freq) or attach_perf_event(perf_fd)",
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


def auto_attach(program: UsdtProgram) -> Link | None:
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
