"""The fuzz harness itself: a short deterministic run finds nothing, the same seed
gives the same mutants, and the pool does report hangs, crashes and memory bombs
(a harness that cannot fail proves nothing)."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from fuzz import mutators
from fuzz.campaign import Campaign, Settings, load_seeds
from fuzz.checks import Checker
from fuzz.pool import Pool

SMOKE_SEEDS = ("globals", "maps_kinds", "types_layout", "core_fields")


@pytest.fixture(scope="module")
def seeds(build_bpf: Callable[[str], Path]) -> list[Path]:
    return [build_bpf(name) for name in SMOKE_SEEDS]


def test_a_short_run_finds_nothing(seeds: list[Path]) -> None:
    campaign = Campaign(
        load_seeds(seeds), Settings(seed=11, count=240, jobs=2, timeout=10)
    )
    try:
        summary = campaign.run()
    finally:
        campaign.close()
    assert summary.mutants == 240
    assert dict(summary.findings) == {}
    # the mutants went everywhere: some refused, some generated, opened, loaded
    assert summary.outcomes["skelgen exit 1"] > 20
    assert summary.outcomes["module imported"] > 20
    assert summary.outcomes["opened"] > 20
    if os.geteuid() == 0:
        assert summary.outcomes["loaded"] + summary.outcomes["load refused"] > 5


def test_the_same_seed_gives_the_same_mutants(seeds: list[Path]) -> None:
    first = Campaign(load_seeds(seeds), Settings(seed=5))
    second = Campaign(load_seeds(list(reversed(seeds))), Settings(seed=5))
    try:
        for index in range(30):
            assert first.mutant(index) == second.mutant(index)
            assert first.mutant_bytes(*first.mutant(index)) == second.mutant_bytes(
                *second.mutant(index)
            )
        assert first.mutant(0) != Campaign(first.seeds, Settings(seed=6)).mutant(0)
    finally:
        first.close()
        second.close()


def test_every_mutator_changes_some_seed(seeds: list[Path]) -> None:
    loaded = load_seeds(seeds)
    for name in mutators.MUTATORS:
        originals = [elf.to_bytes() for _, elf in loaded]
        changed = any(
            mutators.apply(elf, [(name, f"t:{k}")]) != original
            for k in range(8)
            for (_, elf), original in zip(loaded, originals, strict=True)
        )
        assert changed, name


def _pool(body: Callable[[Any], dict[str, Any]]) -> Pool:
    return Pool(lambda report: body, jobs=1, timeout=1.0, memory=1 << 30)


def _forever(payload: Any) -> dict[str, Any]:
    while True:
        time.sleep(0.01)


def _killed(payload: Any) -> dict[str, Any]:
    os.kill(os.getpid(), signal.SIGKILL)
    raise AssertionError("not reached")


def _fine(payload: Any) -> dict[str, Any]:
    return {"findings": [], "value": payload}


def test_the_pool_reports_a_hang_and_a_crash_then_goes_on() -> None:
    for body, kind in ((_forever, "hang"), (_killed, "crash")):
        pool = _pool(body)
        try:
            results = list(pool.run([(0, None)]))
        finally:
            pool.close()
        assert [f.kind for f in results[0][1]["findings"]] == [kind]
    pool = _pool(_fine)
    try:
        assert sorted(r["value"] for _, r in pool.run((i, i) for i in range(5))) == [
            0,
            1,
            2,
            3,
            4,
        ]
    finally:
        pool.close()


def test_the_checker_reports_what_escapes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An object the reader cannot parse at all is refused in one line, and an
    exception from inside the library is a finding with its location."""
    checker = Checker(tmp_path, str(tmp_path / "pins"))
    assert checker.check(b"not an object", real_black=False, load=False) == []
    assert checker.outcomes == ["skelgen exit 1", "open refused"]

    def broken(data: bytes) -> None:
        raise KeyError("planted")

    monkeypatch.setattr("skelgen_runtime.obj.elf.check_layout", broken)
    findings = checker.check(b"\x7fELF", real_black=False, load=False)
    assert {f.signature for f in findings} == {
        "exception in cli: KeyError at tests/fuzz/test_fuzz.py:broken",
        "exception in open: KeyError at tests/fuzz/test_fuzz.py:broken",
    }
