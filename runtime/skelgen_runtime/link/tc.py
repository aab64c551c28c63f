"""Traffic control: tcx links on an interface's ingress or egress (a clsact qdisc and a
cls_bpf filter on kernels without tcx), and netkit devices."""

from __future__ import annotations

import errno

from ..features.links import has_tcx_links
from ..features.requirements import TCX
from ..sys import attr as a
from ..uapi.bpf import AttachType
from .attaching import (
    AttachableProgram,
    attach_error,
    expected_type,
    interface_index,
    link_create,
)
from .link import Link
from .tc_netlink import attach_tc_netlink


def attach_tcx(
    program: AttachableProgram,
    interface: int | str,
    direction: str | None = None,
    flags: int = 0,
    relative_fd: int = 0,
    expected_revision: int = 0,
    legacy: bool = False,
) -> Link:
    """tc through a tcx link; ``direction`` is ``"ingress"`` or ``"egress"``, by default
    what the section says.  ``flags``/``relative_fd`` order it among others.  Where the
    kernel has no tcx links (before 6.6), or with ``legacy``, the program goes in as a
    direct-action cls_bpf filter on a clsact qdisc instead (no ordering there).
    """
    if direction is None:
        attach_type = expected_type(
            program,
            "tcx",
            str(interface),
            (AttachType.TCX_INGRESS, AttachType.TCX_EGRESS),
            "it says neither ingress nor egress; pass direction='ingress' or 'egress'",
        )
    elif direction in ("ingress", "egress"):
        attach_type = AttachType[f"TCX_{direction.upper()}"]
    else:
        raise attach_error(
            program,
            "tcx",
            str(interface),
            f"direction {direction!r} is neither 'ingress' nor 'egress'",
            errno.EINVAL,
        )
    direction = attach_type.name.removeprefix("TCX_").lower()
    if legacy or not has_tcx_links():
        kind = f"tc {direction}"
        if flags or relative_fd or expected_revision:
            raise attach_error(
                program,
                kind,
                str(interface),
                "flags, relative_fd and expected_revision order tcx links, "
                + ("not tc filters" if legacy else f"and {TCX.message()}"),
                errno.EOPNOTSUPP,
            )
        ifindex = interface_index(program, kind, interface)
        return attach_tc_netlink(program, ifindex, str(interface), direction)
    kind = f"tcx {direction}"
    ifindex = interface_index(program, kind, interface)
    tail = a.TcxLinkTail(relative_fd=relative_fd, expected_revision=expected_revision)
    return link_create(program, kind, str(interface), ifindex, attach_type, flags, tail)


def attach_netkit(program: AttachableProgram, interface: int | str) -> Link:
    """A netkit device's primary or peer program, as the section says."""
    ifindex = interface_index(program, "netkit", interface)
    attach_type = expected_type(
        program,
        "netkit",
        str(interface),
        (AttachType.NETKIT_PRIMARY, AttachType.NETKIT_PEER),
        "only netkit/primary and netkit/peer programs attach to a netkit device",
    )
    return link_create(program, "netkit", str(interface), ifindex, attach_type)
