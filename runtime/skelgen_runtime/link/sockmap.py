"""sk_skb and sk_msg programs on a sockmap or sockhash."""

from __future__ import annotations

import errno
import os

from ..features.links import has_sockmap_link
from ..sys import commands as cmd
from ..uapi.bpf import AttachType
from .attaching import AttachableProgram, attaching, expected_type, link_create
from .link import Link


def attach_sockmap(
    program: AttachableProgram, map_fd: int, legacy: bool = False
) -> Link:
    """sk_skb or sk_msg on a sockmap/sockhash: a sockmap link (6.10+).  Where the
    kernel has none, or with ``legacy``, the program goes on the map with
    ``BPF_PROG_ATTACH`` (as ``bpf_prog_attach`` does): the ``Link`` detaches it again
    but is no BPF link (pinning or updating it raises)."""
    target = f"map fd {map_fd}"
    attach_type = expected_type(
        program,
        "sockmap",
        target,
        (
            AttachType.SK_SKB_STREAM_PARSER,
            AttachType.SK_SKB_STREAM_VERDICT,
            AttachType.SK_SKB_VERDICT,
            AttachType.SK_MSG_VERDICT,
        ),
        "only sk_skb/stream_parser, sk_skb/stream_verdict, sk_skb/verdict and sk_msg "
        "programs attach to a sockmap",
    )
    if not legacy and has_sockmap_link():
        return link_create(program, "sockmap", target, map_fd, attach_type)
    with attaching(program, "sockmap", target):
        held = os.dup(map_fd)  # the map stays ours to detach from, whatever is closed
        try:
            cmd.prog_attach(program.fd, held, attach_type)
        except BaseException:
            os.close(held)
            raise
    prog_fd = os.dup(program.fd)  # detaching names the program

    def detach() -> None:
        try:
            cmd.prog_detach(prog_fd, held, attach_type)
        except OSError as exc:
            if exc.errno != errno.ENOENT:  # already replaced by another program
                raise
        finally:
            os.close(prog_fd)
            os.close(held)

    return Link(None, program.name, "sockmap", target, release=[detach])
