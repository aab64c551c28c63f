"""New processes as they exec, with their arguments (bcc's execsnoop)."""

from __future__ import annotations

import argparse

from execsnoop_skel import ExecsnoopBpf, event


def show(e: event) -> None:
    # e.args[i] is a char[64]: bytes up to its first NUL, as e.comm
    args = " ".join(e.args[i].decode() for i in range(e.args_count))
    print(f"{e.comm.decode():<16} {e.pid:<7} {e.ppid:<7} {e.ret:>3} {args}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-x", "--fails", action="store_true", help="failed execs too")
    options = parser.parse_args()
    with ExecsnoopBpf.open_and_load() as skel:
        skel.attach()
        print(f"{'PCOMM':<16} {'PID':<7} {'PPID':<7} RET ARGS", flush=True)
        for e in skel.maps.events:
            if e.ret == 0 or options.fails:
                show(e)


if __name__ == "__main__":
    main()
