"""A fuzzing run: mutants from seeds, through the pool, counted and written down.

Mutant ``i`` of a run with seed ``S`` is fully determined by ``(S, i)``: which seed
object, which mutators, and what each draws.  The same seed and count therefore
give the same mutants, whatever the number of workers.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import random
import re
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import mutators
from .checks import HARNESS, Checker, Finding, location
from .model import Elf, strip_debug
from .pool import Pool

ROOT = Path(__file__).resolve().parents[1]
REGRESSIONS = ROOT / "tests" / "fuzz" / "regressions"
BPFFS = Path("/sys/fs/bpf")


@dataclass(frozen=True)
class Settings:
    seed: int = 1
    count: int = 1000
    jobs: int = 2
    timeout: float = 10.0  # per mutant
    memory: int = 2 << 30  # RLIMIT_AS per worker
    load_every: int = 16  # load() one mutant in this many (as root)
    black_every: int = 8  # the real black and an embedded object: one in this many
    first: int = 0  # index of the first mutant (to resume or split a run)


@dataclass
class Summary:
    settings: Settings
    mutants: int = 0
    seconds: float = 0.0
    outcomes: Counter[str] = field(default_factory=Counter)
    findings: Counter[str] = field(default_factory=Counter)  # signature → mutants
    kinds: Counter[str] = field(default_factory=Counter)  # kind → mutants
    examples: dict[str, tuple[Finding, Any]] = field(default_factory=dict)
    restarts: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "seed": self.settings.seed,
            "first": self.settings.first,
            "mutants": self.mutants,
            "jobs": self.settings.jobs,
            "seconds": round(self.seconds, 1),
            "mutants_per_second": round(self.mutants / max(self.seconds, 1e-9), 1),
            "outcomes": dict(sorted(self.outcomes.items())),
            "finding_kinds": dict(sorted(self.kinds.items())),
            "findings": dict(self.findings.most_common()),
            "worker_restarts": self.restarts,
        }


def load_seeds(paths: list[Path]) -> list[tuple[str, Elf]]:
    """Seed objects without their DWARF, in name order."""
    return [(p.name, strip_debug(Elf.parse(p.read_bytes()))) for p in sorted(paths)]


class Campaign:
    def __init__(self, seeds: list[tuple[str, Elf]], settings: Settings) -> None:
        self.seeds = seeds
        self.settings = settings
        # small seeds are cheaper to check: draw them more often
        self._weights = [1 / math.sqrt(len(e.to_bytes())) for _, e in seeds]
        self._run_dir: Path | None = None  # the workers' scratch space, once there are
        self._pin_root = BPFFS / f"skelgen-fuzz-{os.getpid()}"

    # -- mutants ----------------------------------------------------------------------

    def mutant(self, index: int) -> tuple[int, list[mutators.Step]]:
        """(seed number, steps) of mutant ``index``."""
        rng = random.Random(f"{self.settings.seed}:{index}")
        seed = rng.choices(range(len(self.seeds)), self._weights)[0]
        return seed, mutators.plan(rng, f"{self.settings.seed}:{index}")

    def mutant_bytes(self, seed: int, steps: list[mutators.Step]) -> bytes:
        return mutators.apply(self.seeds[seed][1], steps)

    def describe(self, seed: int, steps: list[mutators.Step]) -> str:
        return f"{self.seeds[seed][0]} + " + ", ".join(n for n, _ in steps)

    # -- workers ----------------------------------------------------------------------

    def _factory(
        self, report: Callable[[str], None]
    ) -> Callable[[Any], dict[str, Any]]:
        assert self._run_dir is not None
        work = self._run_dir / str(os.getpid())
        work.mkdir(exist_ok=True)  # a later worker may get the pid of an earlier one
        pin_root = str(self._pin_root / str(os.getpid()))
        checker = Checker(work, pin_root)
        checker.stage = report
        as_root = os.geteuid() == 0

        def handle(payload: tuple[Any, ...]) -> dict[str, Any]:
            what, body, real_black, load = payload
            try:
                data = self.mutant_bytes(*body) if what == "mutant" else body
            except Exception as exc:  # the harness's own bug: counted, not hidden
                where = location(exc.__traceback__, HARNESS)
                where = f"{type(exc).__name__} at {where}"
                return {"findings": [], "outcomes": [f"mutator failed: {where}"]}
            findings = checker.check(data, real_black=real_black, load=load and as_root)
            return {
                "findings": findings,
                "outcomes": checker.outcomes,
                "restart": any(f.kind == "memory" for f in findings),
            }

        return handle

    def pool(self) -> Pool:
        if self._run_dir is None:
            self._run_dir = Path(
                tempfile.mkdtemp(prefix="skelgen-fuzz-", dir=_scratch())
            )
        s = self.settings
        return Pool(self._factory, jobs=s.jobs, timeout=s.timeout, memory=s.memory)

    def close(self) -> None:
        if self._run_dir is not None:
            shutil.rmtree(self._run_dir, ignore_errors=True)
        _remove_pins(self._pin_root)

    # -- a run ------------------------------------------------------------------------

    def run(self, progress: Callable[[Summary], None] | None = None) -> Summary:
        s = self.settings
        summary = Summary(s)
        start = time.monotonic()

        def tasks() -> Iterator[tuple[Any, Any]]:
            for index in range(s.first, s.first + s.count):
                seed, steps = self.mutant(index)
                load = index % s.load_every == 0
                real_black = index % s.black_every == 1
                yield index, ("mutant", (seed, steps), real_black, load)

        pool = self.pool()
        try:
            for index, result in pool.run(tasks()):
                summary.mutants += 1
                summary.outcomes.update(result.get("outcomes", []))
                for kind in {f.kind for f in result["findings"]}:
                    summary.kinds[kind] += 1
                for finding in result["findings"]:
                    summary.findings[finding.signature] += 1
                    if finding.signature not in summary.examples:
                        summary.examples[finding.signature] = (finding, index)
                if progress is not None and summary.mutants % 1000 == 0:
                    summary.seconds = time.monotonic() - start
                    summary.restarts = pool.restarts
                    progress(summary)
        finally:
            summary.restarts = pool.restarts
            pool.close()
        summary.seconds = time.monotonic() - start
        return summary


def _scratch() -> str:
    shm = Path("/dev/shm")
    return (
        str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else tempfile.gettempdir()
    )


def _remove_pins(root: Path) -> None:
    """Remove a private bpffs directory and whatever mutants pinned in it."""
    if not root.exists():
        return
    for dirpath, dirnames, filenames in os.walk(root, topdown=False):
        for name in filenames:
            os.unlink(os.path.join(dirpath, name))
        for name in dirnames:
            os.rmdir(os.path.join(dirpath, name))
    os.rmdir(root)


def slug(signature: str) -> str:
    """A file name for a finding: readable words plus a short hash."""
    words = re.sub(r"[^A-Za-z0-9]+", "-", signature).strip("-").lower()[:60]
    return f"{words}-{hashlib.sha256(signature.encode()).hexdigest()[:8]}"


def write_findings(
    campaign: Campaign, summary: Summary, out: Path, minimized: dict[str, bytes]
) -> None:
    """``out/summary.json`` and, per finding, the first mutant that showed it."""
    out.mkdir(parents=True, exist_ok=True)
    report = summary.as_dict()
    report["examples"] = {}
    for signature, (finding, index) in summary.examples.items():
        seed, steps = campaign.mutant(index)
        folder = out / "findings" / slug(signature)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "mutant.o").write_bytes(campaign.mutant_bytes(seed, steps))
        if signature in minimized:
            (folder / "minimized.o").write_bytes(minimized[signature])
        report["examples"][signature] = {
            "mutant": index,
            "made of": campaign.describe(seed, steps),
            "detail": finding.detail,
            "folder": str(folder),
        }
    (out / "summary.json").write_text(json.dumps(report, indent=2) + "\n")
