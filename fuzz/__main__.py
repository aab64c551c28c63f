"""``python -m fuzz --seed 1 --count 100000``: a run; ``--replay FILE...``: check objects.

Prints the counts (mutants, outcomes, findings by kind and signature), writes
``OUT/summary.json`` and one folder per distinct finding under ``OUT/findings``;
``--minimize`` shrinks each finding, ``--save-regressions`` copies the shrunk
objects into ``tests/fuzz/regressions/``.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from pathlib import Path

from .campaign import (
    REGRESSIONS,
    Campaign,
    Settings,
    Summary,
    load_seeds,
    slug,
    write_findings,
)
from .minimize import minimize, run_one


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m fuzz", description=__doc__)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument(
        "--first", type=int, default=0, help="index of the first mutant"
    )
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument(
        "--timeout", type=float, default=10.0, help="seconds per mutant"
    )
    parser.add_argument("--load-every", type=int, default=16)
    parser.add_argument("--black-every", type=int, default=8)
    parser.add_argument(
        "--seeds", type=Path, nargs="+", default=[Path("build/fuzz/seeds")]
    )
    parser.add_argument("--out", type=Path, default=Path("build/fuzz"))
    parser.add_argument("--minimize", action="store_true")
    parser.add_argument("--save-regressions", action="store_true")
    parser.add_argument("--replay", type=Path, nargs="+", help="check these objects")
    return parser.parse_args(argv)


def _seed_files(paths: list[Path]) -> list[Path]:
    out: list[Path] = []
    for path in paths:
        out += sorted(path.glob("*.o")) if path.is_dir() else [path]
    return out


def print_summary(summary: Summary) -> None:
    report = summary.as_dict()
    print(
        f"{report['mutants']} mutants (seed {report['seed']}, first {report['first']}) "
        f"in {report['seconds']} s with {report['jobs']} workers: "
        f"{report['mutants_per_second']}/s, {report['worker_restarts']} worker restarts"
    )
    for title, table in (
        ("outcomes", report["outcomes"]),
        ("mutants with a finding, by kind", report["finding_kinds"]),
        ("findings", report["findings"]),
    ):
        print(f"{title}:")
        for key, value in table.items() or [("none", 0)]:
            print(f"  {value:8}  {key}")


def _replay(campaign: Campaign, files: list[Path]) -> int:
    pool = campaign.pool()
    bad = 0
    try:
        for path in files:
            result = run_one(pool, ("bytes", path.read_bytes(), True, True))
            for finding in result["findings"]:
                bad += 1
                print(f"{path}: {finding.signature}: {finding.detail}")
    finally:
        pool.close()
    print(f"{len(files)} objects replayed, {bad} findings")
    return 1 if bad else 0


def _stop(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds: workers stopped, scratch and pins removed


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _stop)
    args = _arguments(argv)
    settings = Settings(
        seed=args.seed,
        count=args.count,
        jobs=args.jobs,
        timeout=args.timeout,
        load_every=args.load_every,
        black_every=args.black_every,
        first=args.first,
    )
    seeds = [] if args.replay else _seed_files(args.seeds)
    if not seeds and not args.replay:
        print("no seed objects (make fuzz compiles them)", file=sys.stderr)
        return 2
    campaign = Campaign(load_seeds(seeds), settings)
    try:
        if args.replay:
            return _replay(campaign, args.replay)
        summary = campaign.run(
            lambda s: print(
                f"... {s.mutants} mutants, {s.mutants / s.seconds:.1f}/s, "
                f"findings: {dict(s.kinds)}",
                flush=True,
            )
        )
        print_summary(summary)
        minimized: dict[str, bytes] = {}
        if args.minimize and summary.examples:
            pool = campaign.pool()
            try:
                for signature, (_, index) in summary.examples.items():
                    data = minimize(campaign, pool, signature, index)
                    if data is not None:
                        minimized[signature] = data
            finally:
                pool.close()
        write_findings(campaign, summary, args.out, minimized)
        if args.save_regressions and minimized:
            REGRESSIONS.mkdir(parents=True, exist_ok=True)
            index_path = REGRESSIONS / "index.json"
            index = json.loads(index_path.read_text()) if index_path.exists() else {}
            for signature, data in minimized.items():
                name = slug(signature) + ".o"
                (REGRESSIONS / name).write_bytes(data)
                index[name] = signature
            index_path.write_text(json.dumps(index, indent=2, sort_keys=True) + "\n")
            print(f"{len(minimized)} regression objects in {REGRESSIONS}")
        print(f"details: {args.out / 'summary.json'}")
        return 1 if summary.findings else 0
    finally:
        campaign.close()


if __name__ == "__main__":
    sys.exit(main())
