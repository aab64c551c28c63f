"""Files being opened, by every process or one (bcc's opensnoop)."""

from __future__ import annotations

import argparse

from opensnoop_skel import OpensnoopBpf, event


def show(e: event) -> None:
    fd, err = (e.ret, 0) if e.ret >= 0 else (-1, -e.ret)
    print(f"{e.pid:<7} {e.comm.decode():<16} {fd:>4} {err:>3} {e.filename.decode()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-p", "--pid", type=int, default=0, help="only this process")
    options = parser.parse_args()
    with OpensnoopBpf.open() as skel:
        skel.rodata.target_pid = options.pid
        skel.load()
        skel.attach()
        print(f"{'PID':<7} {'COMM':<16} {'FD':>4} ERR PATH", flush=True)
        for e in skel.maps.events:
            show(e)


if __name__ == "__main__":
    main()
