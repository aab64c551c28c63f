"""Benchmark: ``open`` + ``load`` of CO-RE objects, skelgen_runtime against libbpf.

Both sides are timed in-process over the same number of rounds, in the same run:
libbpf by the oracle harness (tests/oracle, ``bpf_object__open_file`` +
``bpf_object__load``), skelgen_runtime here (``BPFObject.open`` + ``load``).  The
target is a mean at most 2x libbpf's.  ``cold`` is one load in a fresh
interpreter (kernel BTF index from the disk cache, nothing else warm).

    sudo .venv/bin/python bench/core_load.py [-n 20] [--json] [--check]

``run(n)`` returns the measurements for a caller such as bench/run.py.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "oracle"))

import libbpf_oracle  # noqa: E402
from skelgen_runtime import BPFObject  # noqa: E402

OBJECTS = (
    "core_fields",
    "core_externs",
    "tool_execsnoop",
    "tool_opensnoop",
    "tool_runqlat",
    "tool_tcpstates",
)
# Programs this kernel refuses in every loader; a tool would turn them off.
SKIP = {"tool_tcpstates": ("fentry_tcp_set_state",)}
TARGET_RATIO = 2.0


@dataclass(frozen=True)
class CoreLoad:
    name: str
    rounds: int
    libbpf_ms: float  # mean
    ours_ms: float  # mean
    ours_min_ms: float
    cold_ms: float

    @property
    def ratio(self) -> float:
        return self.ours_ms / self.libbpf_ms


def build(names: tuple[str, ...] = OBJECTS) -> dict[str, Path]:
    """Compile the objects (once: kept under $SKELGEN_BENCH_DIR or a temp dir)."""
    work = Path(
        os.environ.get("SKELGEN_BENCH_DIR")
        or Path(tempfile.gettempdir()) / "skelgen-bench"
    )
    include = work / "include"
    if not (include / "vmlinux.h").is_file():
        libbpf_oracle.generate_vmlinux_h(include)
    triple = subprocess.run(
        ["gcc", "-print-multiarch"], capture_output=True, text=True, check=False
    ).stdout.strip()
    includes = [include] + ([Path("/usr/include") / triple] if triple else [])
    return {
        name: libbpf_oracle.compile_bpf(
            ROOT / "tests" / "bpf" / f"{name}.bpf.c", work / "obj", includes
        )
        for name in names
    }


def open_and_load_ms(path: Path, skip: tuple[str, ...] = ()) -> float:
    """One open + load (the object is destroyed afterwards, untimed)."""
    start = time.perf_counter()
    obj = BPFObject.open(path)
    for name in skip:
        obj.programs[name].autoload = False
    obj.load()
    elapsed = time.perf_counter() - start
    obj.destroy()
    return elapsed * 1e3


def cold_ms(path: Path, skip: tuple[str, ...]) -> float:
    """One open + load in a new interpreter."""
    args = [sys.executable, __file__, "--cold", str(path), *skip]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    return float(out)


def run(rounds: int = 20, names: tuple[str, ...] = OBJECTS) -> list[CoreLoad]:
    harness = libbpf_oracle.build_harness(libbpf_oracle.default_harness_dir())
    results = []
    for name, path in build(names).items():
        skip = SKIP.get(name, ())
        load_only = [p for p in BPFObject.open(path).programs if p not in skip]
        theirs = libbpf_oracle.time_open_load(
            path, rounds, load_only=load_only if skip else (), harness=harness
        )
        ours = [open_and_load_ms(path, skip) for _ in range(rounds)]
        results.append(
            CoreLoad(
                name,
                rounds,
                theirs / 1e3,
                sum(ours) / rounds,
                min(ours),
                cold_ms(path, skip),
            )
        )
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("-n", "--rounds", type=int, default=20)
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument(
        "--check", action="store_true", help=f"fail above {TARGET_RATIO}x libbpf"
    )
    parser.add_argument("--cold", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.cold:
        print(open_and_load_ms(Path(args.cold[0]), tuple(args.cold[1:])))
        return 0
    results = run(args.rounds)
    if args.json:
        print(json.dumps([asdict(r) | {"ratio": r.ratio} for r in results], indent=2))
    else:
        print(f"open+load, mean of {args.rounds} (ms)   libbpf    ours   ratio   cold")
        for r in results:
            print(
                f"  {r.name:<30} {r.libbpf_ms:8.1f} {r.ours_ms:7.1f} "
                f"{r.ratio:6.2f}x {r.cold_ms:6.1f}"
            )
    return 1 if args.check and any(r.ratio > TARGET_RATIO for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
