"""``make bench``: maps, ring buffers and CO-RE loads, Python against C and libbpf.

Everything is measured in one run, in one process, on the same map and ring buffer:
the C side is a small library built here with gcc (``bench_c.c``: bpf(2) called
directly for maps, libbpf's ``ring_buffer__consume`` for the ring) and called through
ctypes, taking turns with the Python loops; the floor is plain Python
(``struct.iter_unpack`` over the very bytes of the ring).  Each figure is the best of
several rounds.  The table is printed and written to ``docs/benchmarks.md``.

Targets (issue 5): single map operations within 2x of C, a batched read of a
100k-entry hash within 1.5x of C, a decoded ring buffer record (batch API or
iterator) at most 1.5x the floor's per-record time, no record lost at a producer
rate the consumer can follow.
"""

from __future__ import annotations

import ctypes
import datetime
import gc
import mmap
import os
import platform
import shutil
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sized
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "runtime"))

from skelgen_runtime import BPFObject, HashMap, MapType  # noqa: E402
from skelgen_runtime.maps.info import read_map_info  # noqa: E402

sys.path.insert(0, str(HERE))
import core_load  # noqa: E402

BUILD = ROOT / "build" / "bench"
CLANG = os.environ.get("BPF_CLANG", "clang-19")
ENTRIES = 100_000  # map size, and the batched read
OPS = 100_000  # single operations per round
ROUNDS = 15
CORE_ROUNDS = 10  # open_and_load() of each CO-RE object
RECORDS = 200_000  # ring buffer records per round
SUSTAINED_S = 2.0
EVENT = struct.Struct("<QQIIQ")
RECORD = struct.Struct("<II" + EVENT.format[1:])  # ring header + event


class Event(ctypes.Structure):
    _fields_ = [
        ("seq", ctypes.c_uint64),
        ("ts", ctypes.c_uint64),
        ("pid", ctypes.c_uint32),
        ("cpu", ctypes.c_uint32),
        ("value", ctypes.c_uint64),
    ]


@dataclass
class Row:
    what: str
    python_ns: float
    reference_ns: float
    reference: str
    target: float
    unit: str = "ns"

    @property
    def ratio(self) -> float:
        return self.python_ns / self.reference_ns

    @property
    def verdict(self) -> str:
        return "ok" if self.ratio <= self.target else "MISSED"


def run(cmd: list[str]) -> str:
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def build() -> tuple[ctypes.CDLL, Path]:
    """The C library and the BPF object, compiled into build/bench."""
    BUILD.mkdir(parents=True, exist_ok=True)
    library = BUILD / "bench_c.so"
    run(["gcc", "-O2", "-Wall", "-shared", "-fPIC", "-o", str(library),
         str(HERE / "bench_c.c"), "-lbpf", "-lelf", "-lz"])  # fmt: skip
    vmlinux_h = BUILD / "vmlinux.h"
    if not vmlinux_h.exists():
        header = run(
            ["bpftool", "btf", "dump", "file", "/sys/kernel/btf/vmlinux", "format", "c"]
        )
        vmlinux_h.write_text(header)
    triple = run(["gcc", "-print-multiarch"]).strip()
    obj = BUILD / "bench.bpf.o"
    run([CLANG, "-g", "-O2", "-target", "bpf", "-D__TARGET_ARCH_x86", f"-I{BUILD}",
         f"-I/usr/include/{triple}", "-c", str(HERE / "bench.bpf.c"), "-o", str(obj)])  # fmt: skip
    c = ctypes.CDLL(str(library))
    keys = ctypes.POINTER(ctypes.c_uint32)
    for name, argtypes in (
        ("c_update", [ctypes.c_int, keys, ctypes.c_int]),
        ("c_lookup", [ctypes.c_int, keys, ctypes.c_int]),
        ("c_delete", [ctypes.c_int, keys, ctypes.c_int]),
        ("c_batch_read", [ctypes.c_int, ctypes.c_int, ctypes.POINTER(ctypes.c_int)]),
        ("c_ringbuf_consume", [ctypes.c_int, ctypes.c_int]),
    ):
        function = getattr(c, name)
        function.argtypes = argtypes
        function.restype = ctypes.c_double
    return c, obj


def timed(loop: Callable[[], Sized]) -> float:
    """ns per item of ``loop``, which returns what it made (freed after the clock
    stops, on both sides alike), started from the same collector state."""
    gc.collect()
    started = time.perf_counter_ns()
    made = loop()
    elapsed = time.perf_counter_ns() - started
    return elapsed / len(made)


# -- maps ---------------------------------------------------------------------------------


def map_figures(c: ctypes.CDLL) -> tuple[dict[str, float], dict[str, float]]:
    """(Python, C) best ns per operation, the two taking turns on one map."""
    python: dict[str, list[float]] = {}
    native: dict[str, list[float]] = {}
    keys = [i % ENTRIES for i in range(OPS)]
    all_keys = list(range(ENTRIES))
    keys_c = (ctypes.c_uint32 * OPS)(*keys)
    all_keys_c = (ctypes.c_uint32 * ENTRIES)(*all_keys)
    with HashMap.create(
        MapType.HASH,
        4,
        8,
        ENTRIES,
        key_type=ctypes.c_uint32,
        value_type=ctypes.c_uint64,
    ) as m:

        def update() -> Sized:
            for key in keys:
                m[key] = key
            return keys

        def lookup() -> Sized:
            for key in keys:
                m[key]
            return keys

        def items() -> Sized:
            return m.items()

        def items_walked() -> Sized:
            entries = m.items()
            for _key, _value in entries:
                pass
            return entries

        def delete() -> Sized:
            for key in all_keys:
                del m[key]
            return all_keys

        def c_items() -> float:
            count = ctypes.c_int()
            per_entry = c.c_batch_read(m.fd, ENTRIES, ctypes.byref(count))
            assert count.value == ENTRIES
            return float(per_entry)

        measures: list[tuple[str, Callable[[], float], Callable[[], float]]] = [
            ("update_ns", lambda: timed(update), lambda: c.c_update(m.fd, keys_c, OPS)),
            ("lookup_ns", lambda: timed(lookup), lambda: c.c_lookup(m.fd, keys_c, OPS)),
            ("batch_ns", lambda: timed(items), c_items),
            ("batch_walked_ns", lambda: timed(items_walked), c_items),
            (
                "delete_ns",
                lambda: timed(delete),
                lambda: c.c_delete(m.fd, all_keys_c, ENTRIES),
            ),
        ]
        for round_index in range(ROUNDS):
            for key, python_side, c_side in measures:
                sides = [(python, python_side), (native, c_side)]
                if round_index % 2:
                    sides.reverse()  # neither side always goes first
                for results, measure in sides:
                    if key == "delete_ns":
                        m.update_batch((k, k) for k in all_keys)  # something to delete
                    gc.collect()
                    results.setdefault(key, []).append(measure())
    return {k: min(v) for k, v in python.items()}, {
        k: min(v) for k, v in native.items()
    }


# -- ring buffer --------------------------------------------------------------------------


def floor_walk(data: bytes) -> list[tuple[int, ...]]:
    """The pure-Python floor: every record decoded with struct, each header checked
    as a consumer must."""
    out = []
    append = out.append
    for record in RECORD.iter_unpack(data):
        if record[0] != EVENT.size:
            break
        append(record)
    return out


class RingBench:
    """The benchmark object loaded by the runtime, and a read-only view of its ring
    (to give the floor the very bytes the consumer reads)."""

    def __init__(self, obj_path: Path) -> None:
        self.obj = BPFObject.open(obj_path)
        self.obj.load()
        self.ring = self.obj.maps["events"]
        self.ring.value_type = Event
        self.produce = self.obj.programs["produce"]
        self.size = read_map_info(self.ring.fd).max_entries
        self._view = mmap.mmap(
            self.ring.fd, mmap.PAGESIZE + 2 * self.size, mmap.MAP_SHARED, mmap.PROT_READ,
            offset=mmap.PAGESIZE,
        )  # fmt: skip

    def global_u64(self, name: str) -> int:
        (variable,) = [
            v for v in self.obj.spec.datasecs[".bss"].variables if v.name == name
        ]
        return int(
            struct.unpack_from("<Q", self.obj.datasec(".bss").read(), variable.offset)[
                0
            ]
        )

    def fill(self, count: int) -> None:
        self.produce.test_run(ctx=struct.pack("<I", count))

    def pending_bytes(self, count: int) -> bytes:
        """The ``count`` records after the consumer position, as the kernel wrote them."""
        consumer = mmap.mmap(
            self.ring.fd, mmap.PAGESIZE, mmap.MAP_SHARED, mmap.PROT_READ
        )
        try:
            position = struct.unpack_from("<Q", consumer)[0]
        finally:
            consumer.close()
        start = mmap.PAGESIZE + (position & (self.size - 1))
        return self._view[start : start + count * RECORD.size]

    def close(self) -> None:
        self._view.close()
        self.obj.destroy()


def ring_figures(bench: RingBench, c: ctypes.CDLL) -> dict[str, float]:
    figures: dict[str, list[float]] = {}

    def drain() -> Sized:
        return bench.ring.drain()

    def iterate() -> Sized:
        events = []
        for event in bench.ring:
            events.append(event)
            if len(events) == RECORDS:
                break
        return events

    for _ in range(ROUNDS):
        bench.fill(RECORDS)
        data = bench.pending_bytes(RECORDS)
        figures.setdefault("floor", []).append(
            timed(lambda data=data: floor_walk(data))
        )
        gc.disable()
        figures.setdefault("floor_nogc", []).append(
            timed(lambda data=data: floor_walk(data))
        )
        gc.enable()
        figures.setdefault("drain", []).append(timed(drain))
        bench.fill(RECORDS)
        figures.setdefault("iter", []).append(timed(iterate))
        bench.fill(RECORDS)
        per_record = c.c_ringbuf_consume(bench.ring.fd, RECORDS)
        assert per_record > 0
        figures.setdefault("c", []).append(per_record)
    return {key: min(values) for key, values in figures.items()}


def sustained(bench: RingBench, rate: float) -> tuple[int, int, bool]:
    """A producer thread at ``rate`` records/s, the batch API consuming: returns
    (records produced, records lost, sequence intact)."""
    chunk = 2000
    stop = threading.Event()
    produced = 0

    def producer() -> None:
        nonlocal produced
        next_at = time.perf_counter()
        while not stop.is_set():
            bench.fill(chunk)
            produced += chunk
            next_at += chunk / rate
            time.sleep(max(0.0, next_at - time.perf_counter()))

    first_seq = bench.global_u64("next_seq")
    dropped_before = bench.global_u64("dropped")
    worker = threading.Thread(target=producer)
    worker.start()
    seqs: list[int] = []
    deadline = time.monotonic() + SUSTAINED_S
    try:
        while time.monotonic() < deadline:
            seqs += [e.seq for e in bench.ring.drain(timeout=0.1)]
    finally:
        stop.set()
        worker.join()
    seqs += [e.seq for e in bench.ring.drain()]
    dropped = bench.global_u64("dropped") - dropped_before
    intact = seqs == list(range(first_seq, first_seq + len(seqs)))
    return produced, dropped, intact and len(seqs) == produced - dropped


# -- report -------------------------------------------------------------------------------


def machine() -> str:
    model = "unknown CPU"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return (
        f"{model}, {os.cpu_count()} CPUs, Linux {platform.release()}, "
        f"Python {platform.python_version()}"
    )


def table(rows: list[Row]) -> list[str]:
    lines = [
        "| measure | Python | reference | reference | ratio | target | |",
        "|---|---:|---|---:|---:|---:|---|",
    ]
    lines += [
        f"| {r.what} | {r.python_ns:.4g} {r.unit} | {r.reference} "
        f"| {r.reference_ns:.4g} {r.unit} | {r.ratio:.2f}x | {r.target:g}x | {r.verdict} |"
        for r in rows
    ]
    return lines


def main() -> int:
    missing = [tool for tool in ("gcc", CLANG, "bpftool") if shutil.which(tool) is None]
    if missing or os.geteuid() != 0:
        print(
            f"bench needs root and {', '.join(missing) or 'nothing else'}",
            file=sys.stderr,
        )
        return 1
    c, obj = build()
    bench = RingBench(obj)
    try:
        ring = ring_figures(bench, c)
        rate = 0.5 * 1e9 / ring["drain"]  # half of what the batch API can decode
        produced, lost, intact = sustained(bench, rate)
    finally:
        bench.close()
    py_maps, c_maps = map_figures(c)
    loads = core_load.run(CORE_ROUNDS)

    floor = "Python floor (iter_unpack)"
    rows = [
        Row("map update (hash, u32 → u64)", py_maps["update_ns"], c_maps["update_ns"], "C, bpf(2)", 2),
        Row("map lookup", py_maps["lookup_ns"], c_maps["lookup_ns"], "C, bpf(2)", 2),
        Row("map delete", py_maps["delete_ns"], c_maps["delete_ns"], "C, bpf(2)", 2),
        Row(f"items() of a {ENTRIES // 1000}k-entry hash, per entry", py_maps["batch_ns"],
            c_maps["batch_ns"], "C, LOOKUP_BATCH", 1.5),
        Row("ring buffer record, batch API (drain)", ring["drain"], ring["floor"], floor, 1.5),
        Row("ring buffer record, iterator", ring["iter"], ring["floor"], floor, 1.5),
    ]  # fmt: skip
    rows += [
        Row(f"open_and_load() of {r.name} (CO-RE)", r.ours_ms, r.libbpf_ms,
            "C, libbpf open + load", core_load.TARGET_RATIO, unit="ms")
        for r in loads
    ]  # fmt: skip
    notes = [
        f"- Maps: one u32 → u64 hash of {ENTRIES:,} entries; {OPS:,} operations per round; "
        f"C and Python take turns on the same map, best of {ROUNDS} rounds each.",
        f"- items() reads the map in batches and decodes keys and values into Python "
        f"ints; like dict.items() it makes a (key, value) pair when one is asked for. "
        f"items() then a loop over every pair: {py_maps['batch_walked_ns']:.0f} ns per "
        f"entry, {py_maps['batch_walked_ns'] / c_maps['batch_ns']:.2f}x C's batched read.",
        f"- Ring buffer: {EVENT.size}-byte events decoded into a ctypes structure, "
        f"{RECORDS:,} records per round. C (libbpf `ring_buffer__consume`, each event "
        f"copied into a struct): {ring['c']:.1f} ns per record; the batch API is "
        f"{ring['drain'] / ring['c']:.0f}x that.",
        "- The floor: `struct.iter_unpack` over the ring's bytes (header + event), one "
        "tuple per record, each header checked; freeing what each side made is not timed.",
        f"- The floor with the garbage collector paused (the runtime pauses it while it "
        f"decodes a batch): {ring['floor_nogc']:.0f} ns per record; the batch API is "
        f"{ring['drain'] / ring['floor_nogc']:.2f}x that.",
        f"- open_and_load(): mean of {CORE_ROUNDS} in-process loads each, libbpf through "
        f"a C harness in the same run; the first load in a fresh interpreter (vmlinux "
        f"BTF index not yet cached in memory): "
        + ", ".join(f"{r.name} {r.cold_ms:.0f} ms" for r in loads)
        + ".",
        f"- Sustained: a producer at {rate / 1e6:.2f} M records/s for {SUSTAINED_S:g} s "
        f"(half the batch API's rate): {produced:,} produced, {lost} lost, sequence "
        f"{'intact' if intact else 'BROKEN'}.",
    ]
    stamp = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    report = [f"Measured {stamp} on {machine()}.", "", *table(rows), "", *notes]
    print("\n".join(report))
    doc = ROOT / "docs" / "benchmarks.md"
    doc.parent.mkdir(exist_ok=True)
    doc.write_text(
        "# Benchmarks\n\n"
        "`make bench` (bench/run.py) measures, in one run and one process, the Python "
        "runtime against C on the same kernel, map and ring buffer, and against a "
        "pure-Python floor. Two cores: compare ratios, not absolute times.\n\n"
        + "\n".join(report)
        + "\n"
    )
    ok = all(r.verdict == "ok" for r in rows) and lost == 0 and intact
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
