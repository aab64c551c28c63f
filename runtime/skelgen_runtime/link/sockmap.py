"""sk_skb and sk_msg programs on a sockmap or sockhash."""

from __future__ import annotations

from ..uapi.bpf import AttachType
from .attaching import AttachableProgram, expected_type, link_create
from .link import Link


def attach_sockmap(program: AttachableProgram, map_fd: int) -> Link:
    """sk_skb or sk_msg on a sockmap/sockhash (kernel 6.10+)."""
    attach_type = expected_type(
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
    return link_create(program, "sockmap", f"map fd {map_fd}", map_fd, attach_type)
