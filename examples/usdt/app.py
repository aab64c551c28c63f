"""Python garbage collections, through the interpreter's USDT probes
``python:gc__start`` and ``python:gc__done`` (libbpf-bootstrap's usdt; bcc's ugc).
Traces every process running BINARY (default: the system's python3, which Debian
builds with these probes), or one (``--pid``)."""

from __future__ import annotations

import argparse
import os

from usdt_skel import UsdtBpf, event


def show(e: event) -> None:
    took = e.duration_ns / 1000
    print(f"{e.pid:<7} {e.generation:>3} {e.collected:>9} {took:>10.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--binary", default="/usr/bin/python3")
    parser.add_argument("--pid", type=int, default=-1, help="default: every process")
    options = parser.parse_args()
    binary = os.path.realpath(options.binary)  # /usr/bin/python3 -> python3.X
    with UsdtBpf.open_and_load() as skel:
        for program, probe in ((skel.progs.gc_start, "gc__start"),
                               (skel.progs.gc_done, "gc__done")):  # fmt: skip
            program.attach_usdt(binary, "python", probe, pid=options.pid)
        print(f"Tracing garbage collections in {binary}... Ctrl-C to end.")
        print(f"{'PID':<7} GEN {'COLLECTED':>9} {'USECS':>10}", flush=True)
        for e in skel.maps.events:
            show(e)


if __name__ == "__main__":
    main()
