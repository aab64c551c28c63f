"""docs/api.md is what scripts/api_doc.py writes from the current docstrings."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import skelgen_runtime

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "api_doc.py"
PAGE = ROOT / "docs" / "api.md"


def generate() -> str:
    return subprocess.run(
        [sys.executable, str(SCRIPT)], capture_output=True, text=True, check=True
    ).stdout


def test_the_committed_api_reference_is_up_to_date() -> None:
    assert generate() == PAGE.read_text(), "docs/api.md is stale: run `make docs`"


def test_the_reference_names_every_public_name_once_and_is_deterministic() -> None:
    text = generate()
    for name in set(skelgen_runtime.__all__) - {"__version__"}:
        assert text.count(f"\n### `{name}`\n") == 1, name
    assert " at 0x" not in text  # no object addresses: the same bytes every run
    assert generate() == text
