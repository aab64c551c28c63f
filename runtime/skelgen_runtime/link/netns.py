"""Programs on a network namespace: sk_lookup and flow_dissector."""

from __future__ import annotations

from ..uapi.bpf import AttachType
from .attaching import AttachableProgram, attach_to_fd_of, expected_type
from .link import Link


def attach_netns(program: AttachableProgram, netns: str | int) -> Link:
    """sk_lookup or flow_dissector on a network namespace (``/proc/<pid>/ns/net``,
    ``/run/netns/<name>``, or an fd)."""
    attach_type = expected_type(
        program,
        "netns",
        str(netns),
        (AttachType.SK_LOOKUP, AttachType.FLOW_DISSECTOR),
        "only sk_lookup and flow_dissector programs attach to a network namespace",
    )
    return attach_to_fd_of(program, attach_type.name.lower(), netns, attach_type)
