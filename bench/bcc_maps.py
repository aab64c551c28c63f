"""The bcc side of the map benchmark, run by the system python3 (which has bcc):
the same u32 → u64 hash and loops as bench/run.py's, through bcc's table API.
Prints JSON: best ns per update, lookup and delete.

    python3 bench/bcc_maps.py ENTRIES OPS ROUNDS
"""

import gc
import json
import sys
import time

from bcc import BPF


def main() -> None:
    entries, ops, rounds = (int(a) for a in sys.argv[1:4])
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
            table[key_type(key)].value
        return len(keys)

    def delete() -> int:
        for key in all_keys:
            del table[key_type(key)]
        return len(all_keys)

    best: dict[str, float] = {}
    for _ in range(rounds):
        for name, loop in (("update_ns", update), ("lookup_ns", lookup), ("delete_ns", delete)):
            if name == "delete_ns":
                update_all = [(key_type(k), leaf_type(k)) for k in all_keys]
                for key, leaf in update_all:
                    table[key] = leaf
            gc.collect()
            started = time.perf_counter_ns()
            count = loop()
            per_op = (time.perf_counter_ns() - started) / count
            best[name] = min(best.get(name, per_op), per_op)
    bpf.cleanup()
    print(json.dumps(best))


if __name__ == "__main__":
    main()
