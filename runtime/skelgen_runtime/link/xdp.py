"""XDP programs on network interfaces."""

from __future__ import annotations

from ..uapi.bpf import AttachType
from .attaching import AttachableProgram, interface_index, link_create
from .link import Link

# XDP attach flags (<linux/if_link.h>)
XDP_FLAGS_UPDATE_IF_NOEXIST = 1 << 0
XDP_FLAGS_SKB_MODE = 1 << 1
XDP_FLAGS_DRV_MODE = 1 << 2
XDP_FLAGS_HW_MODE = 1 << 3


def attach_xdp(
    program: AttachableProgram, interface: int | str, flags: int = 0
) -> Link:
    """XDP on an interface (name or index, in the caller's network namespace)."""
    ifindex = interface_index(program, "xdp", interface)
    return link_create(program, "xdp", str(interface), ifindex, AttachType.XDP, flags)
