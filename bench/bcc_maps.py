"""The bcc side of the map benchmark, run by the system python3 (which has bcc):
the same u32 → u64 hash and loops as bench/run.py's, through bcc's table API.
For each line read from stdin, one round: prints JSON, ns per update, lookup and
delete (bench/run.py asks between its own rounds, so both run at the same time
of a busy machine's day).

    python3 bench/bcc_maps.py ENTRIES OPS
"""

import gc
import json
import sys
import time

from bcc import BPF


def main() -> None:
    entries, ops = (int(a) for a in sys.argv[1:3])
    bpf = BPF(text=f"BPF_HASH(m, u32, u64, {entries});")
    table = bpf["m"]
    key_type, leaf_type = table.Key, table.Leaf
    keys = [i % entries for i in range(ops)]
    all_keys = list(range(entries))

    def update() -> int:
        for key in keys:
            table[key_type(key)] = leaf_type(key)
        return len(keys)

    def lookup() -> int:
        for key in keys:
            _ = table[key_type(key)].value
        return len(keys)

    def delete() -> int:
        for key in all_keys:
            del table[key_type(key)]
        return len(all_keys)

    print("ready", flush=True)
    for _ in sys.stdin:
        figures: dict[str, float] = {}
        for name, loop in (
            ("update_ns", update),
            ("lookup_ns", lookup),
            ("delete_ns", delete),
        ):
            if name == "delete_ns":
                for key in all_keys:
                    table[key_type(key)] = leaf_type(key)
            gc.collect()
            started = time.perf_counter_ns()
            count = loop()
            figures[name] = (time.perf_counter_ns() - started) / count
        print(json.dumps(figures), flush=True)
    bpf.cleanup()


if __name__ == "__main__":
    main()
