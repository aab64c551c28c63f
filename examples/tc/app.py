"""A tc ingress program (tcx) on the loopback device of a private network
namespace (libbpf-bootstrap's tc): it counts packets per IP protocol and drops UDP
datagrams to one port.  The example sends itself datagrams to two ports."""

from __future__ import annotations

import socket

from netns import enter_private_netns
from tc_skel import TcBpf

OPEN_PORT, BLOCKED_PORT, SENT = 7000, 7001, 3


def received(sock: socket.socket) -> int:
    """Datagrams waiting on ``sock`` (the last one came long ago: loopback)."""
    sock.setblocking(False)
    count = 0
    while True:
        try:
            sock.recv(64)
        except BlockingIOError:
            return count
        count += 1


def main() -> None:
    enter_private_netns()
    with TcBpf.open() as skel:
        skel.rodata.blocked_udp_port = BLOCKED_PORT
        skel.load()
        skel.progs.tc_ingress.attach_tcx("lo", "ingress")
        for port in (OPEN_PORT, BLOCKED_PORT):
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sink:
                sink.bind(("127.0.0.1", port))
                for _ in range(SENT):
                    sink.sendto(b"ping", ("127.0.0.1", port))
                print(f"UDP port {port}: {received(sink)} of {SENT} received")
        print(f"dropped by the program: {skel.bss.dropped}")
        for protocol, packets in sorted(skel.maps.packets.items()):
            print(f"IP protocol {protocol}: {packets} packets")


if __name__ == "__main__":
    main()
