"""The minimal skelgen example: filter on our pid, count getpid() calls, print events.

Run it with `make demo`, which compiles minimal.bpf.c, generates minimal_skel.py
with `skelgen` and runs this file.
"""

from __future__ import annotations

import os

from minimal_skel import MinimalBpf, event

CALLS = 5


def main() -> None:
    with MinimalBpf.open() as skel:
        skel.rodata.target_pid = os.getpid()  # seen by the verifier as a constant
        skel.load()
        skel.attach()

        for _ in range(CALLS):
            os.getpid()

        def show(e: event) -> None:
            print(f"event: pid={e.pid} comm={e.comm.decode()} ts={e.ts}")

        received = skel.maps.events.poll(show, timeout=1.0)
        print(f"received {received} events")
        print(f"counter (read live from skel.bss): {skel.bss.counter}")
        print(f"history (skel.data): {list(skel.data.history)}")
        if skel.bss.counter != CALLS or received != CALLS:
            raise SystemExit(f"expected {CALLS} calls, saw {skel.bss.counter}")


if __name__ == "__main__":
    main()
