"""Signals being sent, from ksyscall probes on kill() and tgkill()
(libbpf-bootstrap's ksyscall)."""

from __future__ import annotations

import signal

from ksyscall_skel import KsyscallBpf, event


def show(e: event) -> None:
    name = signal.Signals(e.sig).name if e.sig in signal.valid_signals() else e.sig
    print(f"{e.pid:<7} {e.comm.decode():<16} sends {name} to {e.target}")


def main() -> None:
    with KsyscallBpf.open_and_load() as skel:
        skel.attach()
        print(f"{'PID':<7} {'COMM':<16} SIGNAL", flush=True)
        for e in skel.maps.events:
            show(e)


if __name__ == "__main__":
    main()
