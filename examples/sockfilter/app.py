"""A socket filter on a raw packet socket (libbpf-bootstrap's sockfilter): every
IPv4 packet arriving on the loopback device of a private network namespace becomes
an event; none reaches the socket.  The example sends itself a few UDP datagrams."""

from __future__ import annotations

import ipaddress
import socket

from netns import enter_private_netns
from sockfilter_skel import SockfilterBpf, event

ETH_P_ALL = 0x0003
PORT = 4242


def show(e: event) -> None:
    source = ipaddress.IPv4Address(e.saddr.to_bytes(4, "little"))
    dest = ipaddress.IPv4Address(e.daddr.to_bytes(4, "little"))
    sport, dport = socket.ntohs(e.sport), socket.ntohs(e.dport)
    name = {socket.IPPROTO_UDP: "UDP", socket.IPPROTO_TCP: "TCP"}.get(
        e.protocol, f"IP protocol {e.protocol}"
    )
    print(f"{name} {source}:{sport} -> {dest}:{dport} ({e.length} bytes)")


def main() -> None:
    enter_private_netns()
    raw = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    raw.bind(("lo", 0))
    with raw, SockfilterBpf.open_and_load() as skel:
        skel.progs.packet_info.attach_socket(raw)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind(("127.0.0.1", PORT))  # a receiver: no ICMP "port unreachable"
            for n in range(3):
                udp.sendto(b"x" * (10 * n), ("127.0.0.1", PORT))
        while skel.maps.events.poll(show, timeout=0.5):
            pass
        raw.setblocking(False)
        try:
            raw.recv(2048)
            print("the raw socket received a packet: the filter let it through")
        except BlockingIOError:
            print("the raw socket received nothing: the filter kept every packet")


if __name__ == "__main__":
    main()
