"""Every object the fuzzer once broke something with (minimised, in
``regressions/``) now goes through the generator, an import of its output,
``BPFObject.open`` and ``load()`` without a finding."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fuzz.campaign import Campaign, Settings
from fuzz.minimize import run_one

REGRESSIONS = Path(__file__).resolve().parent / "regressions"
OBJECTS = sorted(REGRESSIONS.glob("*.o"))
INDEX = json.loads((REGRESSIONS / "index.json").read_text()) if OBJECTS else {}


@pytest.fixture(scope="module")
def replay() -> object:
    campaign = Campaign([], Settings(jobs=1, timeout=10))
    pool = campaign.pool()
    yield lambda data: run_one(pool, ("bytes", data, True, True))
    pool.close()
    campaign.close()


def test_every_regression_object_is_indexed() -> None:
    assert OBJECTS, "the regression corpus is empty"
    assert sorted(INDEX) == [p.name for p in OBJECTS]


@pytest.mark.parametrize("path", OBJECTS, ids=[p.stem for p in OBJECTS])
def test_regression_object_passes_every_check(replay: object, path: Path) -> None:
    result = replay(path.read_bytes())  # type: ignore[operator]
    assert [f.signature for f in result["findings"]] == [], INDEX[path.name]
