"""The code-quality bar, enforced by the suite: mypy --strict, ruff, black.

mypy covers the runtime, the generator, and a generated module used by the
minimal example application (the contract: applications type-check).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SOURCES = ["runtime", "skelgen", "tests", "examples", "fuzz", "scripts"] + (
    ["bench"] if (ROOT / "bench").is_dir() else []
)


def _tool(name: str) -> str:
    path = BIN / name
    if not path.exists():
        found = shutil.which(name)
        if found is None:
            pytest.skip(f"{name} is not installed")
        return found
    return str(path)


def _run(*cmd: str, cwd: Path = ROOT) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_mypy_strict_on_runtime_generator_and_a_generated_module(
    build_bpf: Callable[[str], Path], tmp_path: Path
) -> None:
    skel = tmp_path / "minimal_skel.py"
    obj = build_bpf(str(ROOT / "examples/minimal/minimal.bpf.c"))
    _run(sys.executable, "-m", "skelgen", str(obj), "-o", str(skel))
    shutil.copy(ROOT / "examples/minimal/app.py", tmp_path / "app.py")
    _run(_tool("mypy"), "runtime/skelgen_runtime", "skelgen")
    _run(_tool("mypy"), "--strict", "app.py", "minimal_skel.py", cwd=tmp_path)


def test_ruff() -> None:
    _run(_tool("ruff"), "check", *SOURCES)


def test_black() -> None:
    _run(_tool("black"), "--check", *SOURCES)
