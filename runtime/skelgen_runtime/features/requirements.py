"""What a kernel must have for each kind of program, map and link, and the one-line
error that names it when a probe says the running kernel lacks it.

The versions are for messages only: whether the kernel has a feature is always
decided by a probe (:mod:`.programs`, :mod:`.maps`, :mod:`.links`).
"""

from __future__ import annotations

import errno
from collections.abc import Callable

from ..lean.records import dataclass
from ..uapi.bpf import AttachType, MapType, ProgType


@dataclass(frozen=True)
class Requirement:
    """``what`` needs Linux ``since`` (``uapi`` names it in the kernel's headers),
    built with ``config`` if that is an option."""

    what: str
    since: str
    uapi: str
    config: str = ""

    def message(self) -> str:
        built = f" built with {self.config}" if self.config else ""
        return (
            f"{self.what} need Linux {self.since}+{built} ({self.uapi}); "
            "this kernel lacks them"
        )


def _programs(what: str, since: str, prog_type: ProgType) -> Requirement:
    return Requirement(f"{what} programs", since, f"BPF_PROG_TYPE_{prog_type.name}")


PROG_TYPES: dict[ProgType, Requirement] = {
    p: _programs(what, since, p)
    for p, what, since in [
        (ProgType.RAW_TRACEPOINT, "raw tracepoint", "4.17"),
        (ProgType.CGROUP_SOCK_ADDR, "cgroup socket address", "4.17"),
        (ProgType.SK_REUSEPORT, "SO_REUSEPORT", "4.19"),
        (ProgType.FLOW_DISSECTOR, "flow dissector", "4.20"),
        (ProgType.CGROUP_SYSCTL, "cgroup sysctl", "5.2"),
        (ProgType.RAW_TRACEPOINT_WRITABLE, "writable raw tracepoint", "5.2"),
        (ProgType.CGROUP_SOCKOPT, "cgroup sockopt", "5.3"),
        (ProgType.TRACING, "fentry/fexit/tp_btf/iterator", "5.5"),
        (ProgType.STRUCT_OPS, "struct_ops", "5.6"),
        (ProgType.EXT, "freplace", "5.6"),
        (ProgType.LSM, "BPF LSM", "5.7"),
        (ProgType.SK_LOOKUP, "sk_lookup", "5.9"),
        (ProgType.SYSCALL, "syscall", "5.14"),
        (ProgType.NETFILTER, "netfilter", "6.4"),
    ]
}


def _maps(what: str, since: str, map_type: MapType) -> Requirement:
    return Requirement(what, since, f"BPF_MAP_TYPE_{map_type.name}")


MAP_TYPES: dict[MapType, Requirement] = {
    m: _maps(what, since, m)
    for m, what, since in [
        (MapType.QUEUE, "queue maps", "4.20"),
        (MapType.STACK, "stack maps", "4.20"),
        (MapType.SK_STORAGE, "socket storage maps", "5.2"),
        (MapType.DEVMAP_HASH, "hashed device maps", "5.4"),
        (MapType.STRUCT_OPS, "struct_ops maps", "5.6"),
        (MapType.RINGBUF, "ring buffers", "5.8"),
        (MapType.INODE_STORAGE, "inode storage maps", "5.10"),
        (MapType.TASK_STORAGE, "task storage maps", "5.11"),
        (MapType.BLOOM_FILTER, "bloom filter maps", "5.16"),
        (MapType.USER_RINGBUF, "user ring buffers", "6.1"),
        (MapType.CGRP_STORAGE, "cgroup storage maps", "6.2"),
        (MapType.ARENA, "arena maps", "6.9"),
    ]
}

# Links and attachments probed by :mod:`.links`.
PERF_LINK = Requirement("BPF perf-event links", "5.15", "BPF_PERF_EVENT")
PERF_COOKIE = Requirement(
    "BPF cookies on kprobes, uprobes and tracepoints", "5.15", "BPF_PERF_EVENT links"
)
KPROBE_MULTI = Requirement(
    "kprobe.multi links", "5.18", "BPF_TRACE_KPROBE_MULTI", "CONFIG_FPROBE"
)
UPROBE_MULTI = Requirement(
    "uprobe.multi links", "6.6", "BPF_TRACE_UPROBE_MULTI", "CONFIG_UPROBES"
)
TCX = Requirement("tcx links", "6.6", "BPF_TCX_INGRESS/EGRESS")
NETKIT = Requirement("netkit links", "6.7", "BPF_NETKIT_PRIMARY/PEER", "CONFIG_NETKIT")
SOCKMAP_LINK = Requirement(
    "sockmap links (sk_msg, sk_skb)", "6.10", "BPF_LINK_TYPE_SOCKMAP"
)
STRUCT_OPS_LINK = Requirement(
    "struct_ops links (.struct_ops.link tables)", "6.4", "BPF_F_LINK"
)
HASH_LOOKUP_AND_DELETE = Requirement(
    "one-step lookups and deletes in hash maps",
    "5.14",
    "BPF_MAP_LOOKUP_AND_DELETE_ELEM",
)
BTF = Requirement("BTF objects", "4.18", "BPF_BTF_LOAD")
NAMED_KERNEL_BTF = Requirement(
    "kernel BTF objects with names (vmlinux, modules)", "5.11", "bpf_btf_info.name"
)


# What the kernel answers when it does not know a program, map or attach type.
UNKNOWN_TYPE_ERRNOS = frozenset({errno.EINVAL, errno.E2BIG, errno.EOPNOTSUPP})


def missing_prog_type(prog_type: int, code: int) -> str | None:
    """The error for a program load refused with ``code``, if the reason is that
    the kernel lacks the program type (a probe decides); None otherwise."""
    from .programs import has_prog_type

    if code not in UNKNOWN_TYPE_ERRNOS or prog_type not in PROG_TYPES:
        return None
    known = ProgType(prog_type)
    return None if has_prog_type(known) else PROG_TYPES[known].message()


def missing_map_type(map_type: int, code: int) -> str | None:
    """As :func:`missing_prog_type`, for a map create."""
    from .maps import has_map_type

    if code not in UNKNOWN_TYPE_ERRNOS or map_type not in MAP_TYPES:
        return None
    known = MapType(map_type)
    return None if has_map_type(known) else MAP_TYPES[known].message()


def _link_probes() -> dict[int, tuple[Callable[[], bool], Requirement]]:
    from . import links

    return {
        AttachType.TRACE_KPROBE_MULTI: (links.has_kprobe_multi, KPROBE_MULTI),
        AttachType.TRACE_UPROBE_MULTI: (links.has_uprobe_multi, UPROBE_MULTI),
        AttachType.TCX_INGRESS: (links.has_tcx_links, TCX),
        AttachType.TCX_EGRESS: (links.has_tcx_links, TCX),
        AttachType.NETKIT_PRIMARY: (links.has_netkit, NETKIT),
        AttachType.NETKIT_PEER: (links.has_netkit, NETKIT),
        AttachType.SK_MSG_VERDICT: (links.has_sockmap_link, SOCKMAP_LINK),
        AttachType.SK_SKB_VERDICT: (links.has_sockmap_link, SOCKMAP_LINK),
        AttachType.SK_SKB_STREAM_PARSER: (links.has_sockmap_link, SOCKMAP_LINK),
        AttachType.SK_SKB_STREAM_VERDICT: (links.has_sockmap_link, SOCKMAP_LINK),
    }


def missing_link(attach_type: int, code: int) -> str | None:
    """As :func:`missing_prog_type`, for a link create of ``attach_type``."""
    if code not in UNKNOWN_TYPE_ERRNOS:
        return None
    probe = _link_probes().get(attach_type)
    if probe is None:
        return None
    has_it, requirement = probe
    return None if has_it() else requirement.message()
