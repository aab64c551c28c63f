"""Process starts and exits, with each process's lifetime (libbpf-bootstrap's
bootstrap).  ``make example-bootstrap ARGS="-d 100"``: only exits of processes
that lived 100 ms or more."""

from __future__ import annotations

import argparse
import time

from bootstrap_skel import BootstrapBpf, event


def show(e: event) -> None:
    now = time.strftime("%H:%M:%S")
    comm = e.comm.decode()
    if e.exit_event:
        took = f" ({e.duration_ns // 1_000_000}ms)" if e.duration_ns else ""
        print(f"{now} EXIT {comm:<16} {e.pid:<7} {e.ppid:<7} [{e.exit_code}]{took}")
    else:
        print(f"{now} EXEC {comm:<16} {e.pid:<7} {e.ppid:<7} {e.filename.decode()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-d", "--duration", type=int, default=0, metavar="MS",
                        help="minimum process lifetime to report, in ms")  # fmt: skip
    options = parser.parse_args()
    with BootstrapBpf.open() as skel:
        skel.rodata.min_duration_ns = options.duration * 1_000_000
        skel.load()
        skel.attach()
        print(f"{'TIME':<8} {'EVENT':<4} {'COMM':<16} {'PID':<7} {'PPID':<7} "
              "FILENAME/EXIT CODE", flush=True)  # fmt: skip
        for e in skel.maps.events:
            show(e)


if __name__ == "__main__":
    main()
