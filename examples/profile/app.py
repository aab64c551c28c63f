"""A sampling profiler (libbpf-bootstrap's profile): a perf_event program runs on
every CPU FREQ times a second of CPU time and counts samples per process, in user
and kernel mode; after DURATION seconds, the busiest processes."""

from __future__ import annotations

import argparse
import time

from profile_skel import ProfileBpf


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-F", "--freq", type=int, default=99, help="samples/s per CPU")
    parser.add_argument("-d", "--duration", type=float, default=5.0, help="seconds")
    parser.add_argument("--top", type=int, default=10, help="processes to show")
    options = parser.parse_args()
    with ProfileBpf.open_and_load() as skel:
        skel.progs.sample.attach_perf_sampling(freq=options.freq)
        print(f"Sampling at {options.freq} Hz for {options.duration} s...", flush=True)
        time.sleep(options.duration)
        busiest = sorted(
            skel.maps.counts.items(), key=lambda kv: -(kv[1].user + kv[1].kernel)
        )
        print(f"{'PID':<7} {'COMM':<16} {'SAMPLES':>8} {'USER':>8} {'KERNEL':>8}")
        for pid, s in busiest[: options.top]:
            total = s.user + s.kernel
            print(
                f"{pid:<7} {s.comm.decode():<16} {total:>8} {s.user:>8} {s.kernel:>8}"
            )


if __name__ == "__main__":
    main()
