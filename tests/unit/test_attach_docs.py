"""The README lists every section prefix the runtime knows, and every manual attach
method it names exists on Program."""

from __future__ import annotations

import re
from pathlib import Path

from skelgen_runtime import Program
from skelgen_runtime.obj.sections import SECTION_DEFS

DOC = Path(__file__).resolve().parents[2] / "README.md"


def test_every_section_prefix_is_in_the_table() -> None:
    text = DOC.read_text()
    listed = set(
        re.findall(r"`([a-z0-9_.]+(?:/[a-z0-9_]+)?)(?:/[A-Z.:\[\]+]+)*`", text)
    )
    missing = [d.prefix for d in SECTION_DEFS if d.prefix.rstrip("+") not in listed]
    assert not missing


def test_every_method_named_exists() -> None:
    methods = set(re.findall(r"`(attach_\w+|test_run)\(", DOC.read_text()))
    assert len(methods) > 15
    assert [m for m in methods if not callable(getattr(Program, m, None))] == []
