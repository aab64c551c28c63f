"""Socket filters and reuseport selectors, set on a socket with setsockopt (no BPF link)."""

from __future__ import annotations

import errno
import os
import socket

from ..uapi.bpf import ProgType
from .attaching import AttachableProgram, attaching
from .link import Link

# <asm-generic/socket.h>
SO_ATTACH_BPF = 50
SO_DETACH_BPF = 27
SO_ATTACH_REUSEPORT_EBPF = 52
SO_DETACH_REUSEPORT_BPF = 68


def attach_socket(program: AttachableProgram, sock: socket.socket | int) -> Link:
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
    with attaching(program, kind, target):
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

    return Link(None, program.name, kind, target, release=[detach])
