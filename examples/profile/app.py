"""A sampling profiler (libbpf-bootstrap's profile; bcc's profile): a perf_event
program runs on every CPU FREQ times a second of CPU time; after DURATION seconds,
the busiest processes, each with its hottest stack (kernel frames, then user ones)."""

from __future__ import annotations

import argparse
import time
from collections import Counter

from profile_skel import ProfileBpf, sample_key
from skelgen_runtime import SymbolError, ksym, sym


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-F", "--freq", type=int, default=99, help="samples/s per CPU")
    parser.add_argument("-d", "--duration", type=float, default=5.0, help="seconds")
    parser.add_argument("--top", type=int, default=5, help="processes to show")
    options = parser.parse_args()
    with ProfileBpf.open_and_load() as skel:
        skel.progs.sample.attach_perf_sampling(freq=options.freq)
        print(f"Sampling at {options.freq} Hz for {options.duration} s...", flush=True)
        time.sleep(options.duration)
        skel.detach()  # the samples and stacks stay in their maps
        totals: Counter[int] = Counter()
        hottest: dict[int, tuple[int, sample_key]] = {}
        for key, samples in skel.maps.counts.items():
            totals[key.pid] += samples
            if samples > hottest.get(key.pid, (0, key))[0]:
                hottest[key.pid] = (samples, key)
        for pid, total in totals.most_common(options.top):
            samples, key = hottest[pid]
            print(
                f"\n{pid} {key.comm.decode()}: {total} samples, hottest stack {samples}:"
            )
            if key.kernel_stack >= 0:
                for ip in skel.maps.stacks.walk(key.kernel_stack):
                    print(f"    {ksym(ip)}")
            if key.user_stack >= 0:
                for ip in skel.maps.stacks.walk(key.user_stack):
                    try:
                        print(f"    {sym(ip, pid, module=True)}")
                    except SymbolError:  # the process has exited
                        print(f"    {ip:#x}")


if __name__ == "__main__":
    main()
