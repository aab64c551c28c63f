"""Run queue latency, as a log2 histogram of microseconds (bcc's runqlat):
``runqlat [INTERVAL [COUNT]]`` prints one every INTERVAL seconds, COUNT times."""

from __future__ import annotations

import argparse
import time

from runqlat_skel import RunqlatBpf
from skelgen_runtime import print_log2_hist


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("interval", type=float, nargs="?", default=1.0)
    parser.add_argument("count", type=int, nargs="?", default=0, help="0: forever")
    options = parser.parse_args()
    with RunqlatBpf.open_and_load() as skel:
        skel.attach()
        print("Tracing run queue latency... Ctrl-C to end.", flush=True)
        printed = 0
        while options.count == 0 or printed < options.count:
            time.sleep(options.interval)
            slots = skel.bss.slots  # the kernel's memory: read and reset in place
            counts = list(slots)
            for slot in range(len(counts)):
                slots[slot] = 0
            print(time.strftime("\n%H:%M:%S"))
            # hist_add() in runqlat.bpf.c counts in libbpf-tools' convention
            print_log2_hist(counts, "usecs", slots="libbpf-tools")
            printed += 1


if __name__ == "__main__":
    main()
