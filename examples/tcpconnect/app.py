"""Outgoing TCP connections (bcc's tcpconnect), from the sock:inet_sock_set_state
tracepoint."""

from __future__ import annotations

import ipaddress
import socket

from tcpconnect_skel import TcpconnectBpf, event


def address(raw: bytes, ip: int) -> str:
    return str(ipaddress.ip_address(raw[:4] if ip == 4 else raw))


def show(e: event) -> None:
    ip = 4 if e.family == socket.AF_INET else 6
    source, dest = address(bytes(e.saddr), ip), address(bytes(e.daddr), ip)
    print(f"{e.pid:<7} {e.comm.decode():<16} {ip:<2} {source:<16} {dest:<16} {e.dport}")


def main() -> None:
    with TcpconnectBpf.open_and_load() as skel:
        skel.attach()
        print(
            f"{'PID':<7} {'COMM':<16} IP {'SADDR':<16} {'DADDR':<16} DPORT", flush=True
        )
        for e in skel.maps.events:
            show(e)


if __name__ == "__main__":
    main()
