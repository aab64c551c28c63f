"""Netfilter hooks of the caller's network namespace."""

from __future__ import annotations

from ..sys import attr as a
from ..uapi.bpf import AttachType
from .attaching import AttachableProgram, link_create
from .link import Link


def attach_netfilter(
    program: AttachableProgram, pf: int, hooknum: int, priority: int, flags: int = 0
) -> Link:
    """A netfilter hook of the caller's network namespace (``pf`` NFPROTO_*, ``hooknum``
    NF_INET_*; ``priority`` orders it among the hook's functions)."""
    target = f"pf {pf} hook {hooknum} priority {priority}"
    tail = a.NetfilterLinkTail(pf=pf, hooknum=hooknum, priority=priority, flags=flags)
    return link_create(program, "netfilter", target, 0, AttachType.NETFILTER, tail=tail)
