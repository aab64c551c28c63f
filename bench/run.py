"""``make bench``: start-up, maps, ring buffers and CO-RE loads against their references.

Everything is measured in one run.  Maps and ring buffers in one process, on the
same map and ring buffer: the C side is a small library built here with gcc
(``bench_c.c``: bpf(2) called directly for maps, libbpf's ``ring_buffer__consume``
for the ring) called through ctypes, taking turns with the Python loops; the
Python floors are the fastest plain Python there is (a ctypes + syscall loop with
one preallocated ``bpf_attr`` for maps, ``struct.iter_unpack`` over the very bytes
of the ring); bcc, when the system python3 has it, runs the same map loops in a
process of its own.  Start-up (start_attached.py) spawns each side anew.  Each
figure is the best of several rounds.

Targets (issue 12): a non-CO-RE skeleton started and attached within 2x a bare
``python -c`` (and 0.1x bcc), a CO-RE tool within 3x; single map operations within
1.2x the Python floor and faster than bcc; a ring buffer record read in batch
(numpy) within 3x C, decoded one by one within 1.5x the floor.

The table is printed and written to build/bench/results.md; ``--docs`` (``make
bench-docs``) also writes docs/benchmarks.md and the README's table.  The exit
status is 0 whenever the benchmark ran, whatever the ratios.
"""

from __future__ import annotations

import argparse
import ctypes
import datetime
import gc
import json
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
from skelgen_runtime.sys.numbers import NR_BPF  # noqa: E402

try:
    import numpy  # noqa: F401  (the runtime's [numpy] extra: drain_array, to_numpy)

    NUMPY = True
except ImportError:
    NUMPY = False

sys.path.insert(0, str(HERE))
import core_load  # noqa: E402
import start_attached  # noqa: E402

BUILD = ROOT / "build" / "bench"
CLANG = os.environ.get("BPF_CLANG", "clang-19")
ENTRIES = 100_000  # map size, and the batched read
OPS = 100_000  # single operations per round
ROUNDS = 15
START_ROUNDS = 15  # start → attached, per side
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
    ours: float
    reference_value: float
    reference: str
    target: float | None  # None: shown for scale, no target
    unit: str = "ns"

    @property
    def ratio(self) -> float:
        return self.ours / self.reference_value

    @property
    def verdict(self) -> str:
        if self.target is None:
            return ""
        return "ok" if self.ratio <= self.target else "missed"


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


class FloorLoops:
    """The fastest plain Python for single map operations: a preallocated
    ``bpf_attr`` (map_fd, key, value, flags) pointing at a ctypes key and value,
    libc's syscall() called on it in a loop, the result checked and read back."""

    def __init__(self, fd: int) -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        self.syscall = libc.syscall
        self.fd = fd
        self.key = ctypes.c_uint32()
        self.value = ctypes.c_uint64()

    def loop(self, cmd: int, keys: list[int]) -> Sized:
        key, value = self.key, self.value
        attr = ctypes.create_string_buffer(32)
        value_address = 0 if cmd == BPF_MAP_DELETE_ELEM else ctypes.addressof(value)
        struct.pack_into(
            "<IIQQQ", attr, 0, self.fd, 0, ctypes.addressof(key), value_address, 0
        )
        syscall, nr, size = self.syscall, NR_BPF, len(attr)
        for k in keys:
            key.value = k
            value.value = k
            if syscall(nr, cmd, attr, size) < 0:
                raise OSError(ctypes.get_errno(), "bpf")
            _ = value.value  # what a lookup returns
        return keys


BPF_MAP_LOOKUP_ELEM, BPF_MAP_UPDATE_ELEM, BPF_MAP_DELETE_ELEM = 1, 2, 3


class BccMaps:
    """bcc's map loops (bcc_maps.py) in a process of its own, one round on request."""

    def __init__(self, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [start_attached.SYSTEM_PYTHON, str(HERE / "bcc_maps.py"), str(ENTRIES), str(OPS)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            env=start_attached.python_env() | env,
        )  # fmt: skip
        assert self.process.stdin is not None and self.process.stdout is not None
        self.stdin, self.stdout = self.process.stdin, self.process.stdout
        if self.stdout.readline().strip() != "ready":
            self.close()
            raise OSError("bcc could not load its map")

    def round(self) -> dict[str, float]:
        self.stdin.write("round\n")
        self.stdin.flush()
        figures: dict[str, float] = json.loads(self.stdout.readline())
        return figures

    def close(self) -> None:
        self.stdin.close()
        self.process.wait()


def map_figures(c: ctypes.CDLL, bcc: BccMaps | None) -> dict[str, dict[str, float]]:
    """Best ns per operation of each side (``skelgen``, ``floor``, ``c``, ``bcc``),
    the sides taking turns (bcc on a map of its own, between the rounds)."""
    results: dict[str, dict[str, list[float]]] = {
        "skelgen": {},
        "floor": {},
        "c": {},
        "bcc": {},
    }
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
        floor = FloorLoops(m.fd)

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

        def to_numpy() -> Sized:
            return m.to_numpy()[0]  # type: ignore[no-any-return]

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

        measures: list[tuple[str, dict[str, Callable[[], float]]]] = [
            ("update_ns", {
                "skelgen": lambda: timed(update),
                "floor": lambda: timed(lambda: floor.loop(BPF_MAP_UPDATE_ELEM, keys)),
                "c": lambda: c.c_update(m.fd, keys_c, OPS),
            }),
            ("lookup_ns", {
                "skelgen": lambda: timed(lookup),
                "floor": lambda: timed(lambda: floor.loop(BPF_MAP_LOOKUP_ELEM, keys)),
                "c": lambda: c.c_lookup(m.fd, keys_c, OPS),
            }),
            ("batch_ns", {"skelgen": lambda: timed(items), "c": c_items}),
            *([("numpy_ns", {"skelgen": lambda: timed(to_numpy)})] if NUMPY else []),
            ("batch_walked_ns", {"skelgen": lambda: timed(items_walked)}),
            ("delete_ns", {
                "skelgen": lambda: timed(delete),
                "floor": lambda: timed(lambda: floor.loop(BPF_MAP_DELETE_ELEM, all_keys)),
                "c": lambda: c.c_delete(m.fd, all_keys_c, ENTRIES),
            }),
        ]  # fmt: skip
        for round_index in range(ROUNDS):
            for key, sides in measures:
                order = list(sides.items())
                if round_index % 2:
                    order.reverse()  # no side always goes first
                for side, measure in order:
                    if key == "delete_ns":
                        m.update_batch((k, k) for k in all_keys)  # something to delete
                    gc.collect()
                    results[side].setdefault(key, []).append(measure())
            if bcc is not None:
                for key, value in bcc.round().items():
                    results["bcc"].setdefault(key, []).append(value)
    return {
        side: {key: min(values) for key, values in figures.items()}
        for side, figures in results.items()
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

    def drain_array() -> Sized:
        return bench.ring.drain_array()  # type: ignore[no-any-return]

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
        figures.setdefault("drain", []).append(timed(drain))
        if NUMPY:
            bench.fill(RECORDS)
            figures.setdefault("array", []).append(timed(drain_array))
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


def load_average() -> str:
    with open("/proc/loadavg") as f:
        return f.read().split()[0]


def table(rows: list[Row]) -> list[str]:
    lines = [
        "| measure | skelgen | reference | reference | ratio | target | |",
        "|---|---:|---|---:|---:|---:|---|",
    ]
    lines += [
        f"| {r.what} | {r.ours:.4g} {r.unit} | {r.reference} "
        f"| {r.reference_value:.4g} {r.unit} | {r.ratio:.2f}x "
        f"| {'—' if r.target is None else f'≤ {r.target:g}x'} | {r.verdict} |"
        for r in rows
    ]
    return lines


def start_rows(starts: dict[str, start_attached.Start]) -> list[Row]:
    python = starts["python"].cpu_ns / 1e6
    rows = []
    for tool, kind, target in (
        (start_attached.SMALL, "non-CO-RE", 2.0),
        (start_attached.EXECSNOOP, "CO-RE", 3.0),
    ):
        ours = starts[f"skelgen_{tool.name}"]
        what = f"start → attached, {tool.name} ({kind})"
        rows.append(
            Row(what, ours.cpu_ns / 1e6, python, "bare `python -c`", target, "ms")
        )
        rows.append(Row(what, ours.cpu_ns / 1e6, starts[f"c_{tool.name}"].cpu_ns / 1e6,
                        "C, libbpf skeleton", None, "ms"))  # fmt: skip
        bcc = starts.get(f"bcc_{tool.name}")
        if bcc is not None:
            rows.append(
                Row(what, ours.cpu_ns / 1e6, bcc.cpu_ns / 1e6, "bcc", 0.1, "ms")
            )
    small = starts[f"skelgen_{start_attached.SMALL.name}"]
    rows.append(Row(f"import of {start_attached.SMALL.name}'s generated module",
                    small.import_cpu_ns / 1e6, python, "bare `python -c`", 1.0, "ms"))  # fmt: skip
    return rows


def map_rows(maps: dict[str, dict[str, float]]) -> list[Row]:
    ours, floor, c, bcc = maps["skelgen"], maps["floor"], maps["c"], maps["bcc"]
    rows = []
    for key, what in (("update_ns", "map update (hash, u32 → u64)"),
                      ("lookup_ns", "map lookup"), ("delete_ns", "map delete")):  # fmt: skip
        rows.append(
            Row(what, ours[key], floor[key], "Python floor (ctypes + bpf(2))", 1.2)
        )
        if bcc:
            rows.append(Row(what, ours[key], bcc[key], "bcc", 1.0))
        rows.append(Row(what, ours[key], c[key], "C, bpf(2)", None))
    rows.append(Row(f"items() of a {ENTRIES // 1000}k-entry hash, per entry",
                    ours["batch_ns"], c["batch_ns"], "C, LOOKUP_BATCH", 1.5))  # fmt: skip
    if "numpy_ns" in ours:
        rows.append(Row(f"to_numpy() of a {ENTRIES // 1000}k-entry hash, per entry",
                        ours["numpy_ns"], c["batch_ns"], "C, LOOKUP_BATCH", 1.2))  # fmt: skip
    return rows


def ring_rows(ring: dict[str, float]) -> list[Row]:
    floor = "Python floor (iter_unpack)"
    rows = []
    if "array" in ring:
        rows.append(Row("ring buffer record, numpy batch (drain_array)", ring["array"],
                        ring["c"], "C, libbpf ring_buffer__consume", 3.0))  # fmt: skip
    return [
        *rows,
        Row("ring buffer record, batch of objects (drain)", ring["drain"], ring["floor"], floor, 1.5),
        Row("ring buffer record, iterator", ring["iter"], ring["floor"], floor, 1.5),
    ]  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--docs", action="store_true",
        help="also write docs/benchmarks.md and the README's table",
    )  # fmt: skip
    parser.add_argument(
        "--only", choices=("start", "maps", "ring", "core"), action="append",
        help="run only these parts (repeatable)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    parts = set(args.only or ("start", "maps", "ring", "core"))
    missing = [tool for tool in ("gcc", CLANG, "bpftool") if shutil.which(tool) is None]
    if missing or os.geteuid() != 0:
        print(
            f"bench needs root and {', '.join(missing) or 'nothing else'}",
            file=sys.stderr,
        )
        return 1
    load_before = load_average()
    c, obj = build()
    rows: list[Row] = []
    notes: list[str] = []
    if "start" in parts:
        starts = start_attached.run(START_ROUNDS)
        rows += start_rows(starts)
        notes.append(
            f"- Start → attached: a new process per measure, {START_ROUNDS} rounds, the "
            "sides taking turns; the figure is the process's CPU time when every "
            "program is attached (best round), which a busy machine disturbs far less "
            "than wall time. Wall time, median: "
            + ", ".join(
                f"{name} {s.wall_ns / 1e6:.1f} ms" for name, s in starts.items()
            )
            + ". bcc compiles its C at every start."
        )
    if "maps" in parts:
        bcc_env = start_attached.bcc_kernel_source()
        bcc = None
        if bcc_env is not None:
            try:
                bcc = BccMaps(bcc_env)
            except OSError as exc:
                print(f"bench: no bcc row: {exc}", file=sys.stderr)
        try:
            maps = map_figures(c, bcc)
        finally:
            if bcc is not None:
                bcc.close()
        rows += map_rows(maps)
        notes += [
            f"- Maps: one u32 → u64 hash of {ENTRIES:,} entries; {OPS:,} operations per "
            f"round; skelgen, the floor and C take turns on the same map, best of "
            f"{ROUNDS} rounds each; bcc (`table[Key(k)] = Leaf(v)`) on a map of its own in "
            "its own process, a round between each of theirs"
            + ("" if bcc is not None else " (not installed: no row)") + ".",
            f"- items() reads the map in batches and decodes keys and values into Python "
            f"ints; like dict.items() it makes a (key, value) pair when one is asked for. "
            f"items() then a loop over every pair: {maps['skelgen']['batch_walked_ns']:.0f} ns "
            f"per entry, {maps['skelgen']['batch_walked_ns'] / maps['c']['batch_ns']:.2f}x C's "
            "batched read.",
        ]  # fmt: skip
    if "ring" in parts:
        bench = RingBench(obj)
        try:
            ring = ring_figures(bench, c)
            rate = 0.5 * 1e9 / ring["drain"]  # half of what the batch API can decode
            produced, lost, intact = sustained(bench, rate)
        finally:
            bench.close()
        rows += ring_rows(ring)
        notes += [
            f"- Ring buffer: {EVENT.size}-byte events, {RECORDS:,} records per round. C "
            f"(libbpf `ring_buffer__consume`, each event copied into a struct): "
            f"{ring['c']:.1f} ns per record; drain() decodes each into a ctypes structure "
            f"and is {ring['drain'] / ring['c']:.0f}x that; drain_array() copies them into "
            "one numpy structured array"
            + ("" if NUMPY else " (numpy not installed: no row)") + ".",
            "- The floor: `struct.iter_unpack` over the ring's bytes (header + event), one "
            "tuple per record, each header checked; freeing what each side made is not timed.",
            f"- Sustained: a producer at {rate / 1e6:.2f} M records/s for {SUSTAINED_S:g} s "
            f"(half the batch API's rate): {produced:,} produced, {lost} lost, sequence "
            f"{'intact' if intact else 'BROKEN'}.",
        ]  # fmt: skip
    if "core" in parts:
        loads = core_load.run(CORE_ROUNDS)
        rows += [
            Row(f"open_and_load() of {r.name} (CO-RE)", r.ours_ms, r.libbpf_ms,
                "C, libbpf open + load", core_load.TARGET_RATIO, unit="ms")
            for r in loads
        ]  # fmt: skip
        notes.append(
            f"- open_and_load(): mean of {CORE_ROUNDS} in-process loads each, libbpf "
            f"through a C harness in the same run; the first load in a fresh interpreter: "
            + ", ".join(f"{r.name} {r.cold_ms:.0f} ms" for r in loads)
            + "."
        )
    stamp = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    report = [
        f"Measured {stamp} on {machine()}; load average {load_before} before the run, "
        f"{load_average()} after.",
        "",
        *table(rows),
        "",
        *notes,
    ]
    print("\n".join(report))
    results = BUILD / "results.md"
    results.write_text("# Benchmarks\n\n" + "\n".join(report) + "\n")
    print(f"\nwritten to {results.relative_to(ROOT)}")
    if args.docs:
        write_docs(report, rows, stamp)
    return 0


README_START = "<!-- bench: the table of `make bench-docs` -->"
README_END = "<!-- bench: end -->"


def write_docs(report: list[str], rows: list[Row], stamp: str) -> None:
    """docs/benchmarks.md (the whole report) and the README's table."""
    doc = ROOT / "docs" / "benchmarks.md"
    doc.write_text(
        "# Benchmarks\n\n"
        "`make bench` (bench/run.py) measures start-up, map operations, ring buffers "
        "and CO-RE loads against their references in one run (`make bench-docs` "
        "writes this page). Two cores: compare ratios, not absolute times.\n\n"
        + "\n".join(report)
        + "\n"
    )
    readme = ROOT / "README.md"
    text = readme.read_text()
    start, end = text.index(README_START), text.index(README_END)
    block = [README_START, f"Measured {stamp} on {machine()}:", "", *table(rows)]
    readme.write_text(text[:start] + "\n".join(block) + "\n" + text[end:])
    print(f"written to {doc.relative_to(ROOT)} and README.md")


if __name__ == "__main__":
    sys.exit(main())
