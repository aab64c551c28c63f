"""``scripts/kernels/run`` and ``scripts/kernels/matrix`` (see docs/kernels.md).

run KERNEL [-- COMMAND...]   one command in a VM on KERNEL, output on the terminal;
                             ``pytest ...`` runs the project's pytest on host-built
                             objects (default: pytest -q tests/kernel)
matrix [options]             the kernel tests on each kernel in turn: JUnit and a
                             console log per kernel under build/kernels/results/,
                             a summary, and the table of docs/kernels.md
report [--docs]              that summary again from the latest results
"""

from __future__ import annotations

import argparse
import datetime
import os
import shlex
import subprocess
import sys
from collections.abc import Sequence

import report
import vm
from debian import SUITES, Kernel, KernelError, KernelStore

REPO = vm.REPO
STORE = KernelStore(REPO / "build" / "kernels")
RESULTS = STORE.root / "results"
CACHE = REPO / "build" / "test-objects"
DOCS = REPO / "docs" / "kernels.md"
KERNEL_TESTS = "tests/kernel"


def prebuild() -> None:
    """Build on the host what the tests need: objects, generated modules, test programs
    (the guest runs no compiler), and the bytecode of the project's Python, with
    pytest's rewritten test modules (under TCG, compiling them costs minutes)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    quiet = subprocess.DEVNULL
    subprocess.run(
        [sys.executable, str(REPO / "tests" / "build_cache.py"), str(CACHE)],
        check=True,
        stdout=quiet,
    )
    sources = ["runtime", "skelgen", "tests", str(CACHE)]
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", *sources], cwd=REPO, check=True
    )
    collect = [sys.executable, "-m", "pytest", "-q", "--collect-only", KERNEL_TESTS]
    collect += ["-p", "no:cacheprovider", f"--build-cache={CACHE}"]
    subprocess.run(collect, cwd=REPO, env=env, check=True, stdout=quiet)


def kernel(name: str, refresh: bool) -> Kernel:
    """The kernel ``name``; with ``refresh`` the newest package, unless the mirror
    cannot be reached and a cached one exists."""
    try:
        return STORE.get(name, refresh=refresh)
    except KernelError as exc:
        cached = STORE.cached(name)
        if cached is None:
            raise
        print(f"kernels: {exc}; using the cached {cached.version}", file=sys.stderr)
        return cached


def cmd_run(args: argparse.Namespace, command: Sequence[str]) -> int:
    chosen = kernel(args.kernel, args.refresh)
    prebuild()
    print(f"kernels: {chosen.name} = {chosen.package} {chosen.version}", flush=True)
    outcome = vm.run(
        chosen,
        command or ["pytest", "-q", KERNEL_TESTS],
        cache_dir=CACHE,
        timeout=args.timeout,
        verbose=args.verbose,
    )
    print(f"kernels: {chosen.name}: {_ending(outcome)}", flush=True)
    return 124 if outcome.status is None else outcome.status


def _ending(outcome: vm.Outcome) -> str:
    how = "timed out" if outcome.status is None else f"exit {outcome.status}"
    return f"{how} after {outcome.seconds:.0f} s"


def cmd_matrix(args: argparse.Namespace) -> int:
    tests = args.tests or [KERNEL_TESTS]
    full = tests == [KERNEL_TESTS] and args.k is None
    selection = shlex.join([*tests, *(["-k", args.k] if args.k else [])])
    prebuild()
    kernels = [kernel(name, refresh=not args.no_refresh) for name in args.kernels]
    broken = []
    runs = []
    for chosen in kernels:
        name = chosen.name
        # A partial run keeps its results apart: the page shows full runs only.
        out = RESULTS / name if full else RESULTS / "partial" / name
        out.mkdir(parents=True, exist_ok=True)
        for stale in ("junit.xml", "run.json", "console.log"):
            (out / stale).unlink(missing_ok=True)
        junit = f"--junitxml={vm.GUEST_RESULTS}/junit.xml"
        # -v: the console log says how far a run got if it never ends; a test
        # stuck for 10 minutes has its stack dumped there.
        pytest = ["pytest", "-v", "-rfE", "-o", "faulthandler_timeout=600", junit]
        pytest += tests
        if args.k:
            pytest += ["-k", args.k]
        print(f"kernels: {name} ({chosen.version}): {selection}", flush=True)
        outcome = vm.run(
            chosen,
            pytest,
            cache_dir=CACHE,
            results=out,
            log=out / "console.log",
            timeout=args.timeout,
        )
        run = report.KernelRun(
            name=name,
            version=chosen.version,
            release=chosen.release,
            status=outcome.status,
            seconds=round(outcome.seconds, 1),
            selection=selection,
            full=full,
            date=datetime.date.today().isoformat(),
        )
        report.save_run(run, out)
        loaded = report.load_run(out)
        assert loaded is not None
        runs.append(loaded)
        counts = loaded.counts()
        print(
            f"kernels: {name}: {_ending(outcome)}; "
            + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())),
            flush=True,
        )
        # pytest exits 0 (all passed) or 1 (some failed); anything else, or no
        # JUnit file, means the run itself broke (boot, collection, timeout).
        if outcome.status not in (0, 1) or not loaded.results:
            broken.append(name)
            print(f"kernels: {name}: see {out / 'console.log'}", file=sys.stderr)
    _summarise(runs, update_docs=full and not args.no_docs)
    failed = any(r.counts()["failed"] + r.counts()["error"] for r in runs)
    return 1 if broken or (args.strict and failed) else 0


def _summarise(runs: Sequence[report.KernelRun], update_docs: bool) -> None:
    print()
    print(report.summary_table(runs))
    print()
    for run in runs:
        print(f"{run.name}:")
        print("\n".join(report.failure_causes(run)) or "- no failures")
    if update_docs:
        results = (report.load_run(RESULTS / name) for name in SUITES)
        report.update_docs(DOCS, [r for r in results if r is not None and r.full])
        print(f"\nkernels: updated {DOCS.relative_to(REPO)}")


def cmd_report(args: argparse.Namespace) -> int:
    """The summary of the latest results of ``args.kernels``, without running."""
    results = (report.load_run(RESULTS / name) for name in args.kernels)
    _summarise([r for r in results if r is not None], update_docs=args.docs)
    return 0


def main(argv: Sequence[str]) -> int:
    argv = list(argv)
    command = argv[argv.index("--") + 1 :] if "--" in argv else []
    argv = argv[: argv.index("--")] if "--" in argv else argv
    parser = argparse.ArgumentParser(prog="scripts/kernels", description=__doc__)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    sub = parser.add_subparsers(dest="action", required=True)
    run = sub.add_parser("run", help="one command in a VM")
    run.add_argument("kernel", choices=list(SUITES))
    run.add_argument("--refresh", action="store_true", help="fetch the newest package")
    run.add_argument("--timeout", type=float, default=None, metavar="SECONDS")
    run.add_argument("-v", "--verbose", action="store_true", help="kernel messages")
    matrix = sub.add_parser("matrix", help="the kernel tests on each kernel")
    matrix.add_argument(
        "--kernels", nargs="+", choices=list(SUITES), default=list(SUITES)
    )
    matrix.add_argument(
        "--tests", nargs="+", metavar="PATH", help="default: tests/kernel"
    )
    matrix.add_argument("-k", metavar="EXPR", help="pytest -k expression")
    matrix.add_argument("--timeout", type=float, default=3600.0, metavar="SECONDS")
    matrix.add_argument("--no-refresh", action="store_true", help="use cached kernels")
    matrix.add_argument("--no-docs", action="store_true", help="leave docs/kernels.md")
    matrix.add_argument(
        "--strict", action="store_true", help="exit 1 when a test fails, too"
    )
    summary = sub.add_parser("report", help="the latest results again, no run")
    summary.add_argument(
        "--kernels", nargs="+", choices=list(SUITES), default=list(SUITES)
    )
    summary.add_argument("--docs", action="store_true", help="rewrite docs/kernels.md")
    args = parser.parse_args(argv)
    try:
        if args.action == "run":
            return cmd_run(args, command)
        if command:
            parser.error(f"{args.action} takes no command")
        if args.action == "report":
            return cmd_report(args)
        return cmd_matrix(args)
    except KernelError as exc:
        print(f"kernels: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
