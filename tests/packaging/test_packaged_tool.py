"""A BPF tool shipped as a wheel: ``examples/packaged`` built with the skelgen
hatchling hook, installed into a clean venv that holds only skelgen-runtime (and
its dependencies), run as root against the kernel.

Everything is offline: the wheels are built without build isolation from this
venv (hatchling, setuptools and skelgen are its dev extras), and the runtime's
dependencies come from the wheelhouse ``scripts/setup.sh`` fills.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import ROOT, require

EXAMPLE = ROOT / "examples" / "packaged"
WHEELHOUSE = Path(sys.prefix) / "wheelhouse"  # scripts/setup.sh
# Build trees and caches a copied source tree leaves out.
NOT_SOURCES = shutil.ignore_patterns("build", "dist", "*.egg-info", "__pycache__")


def pip(*args: str | Path, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "pip", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def build_wheel(
    project: Path, name: str, out: Path, env: dict[str, str] | None = None
) -> Path:
    """``pip wheel`` offline, with this venv's build backends; ``name``: the
    wheel's file name starts with it."""
    pip(
        "wheel", "--no-deps", "--no-index", "--no-build-isolation", "-q",
        "-w", out, project, env=env,
    )  # fmt: skip
    (wheel,) = out.glob(f"{name}-*.whl")
    return wheel


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Fresh wheels of skelgen-runtime, skelgen and the example."""
    scratch = tmp_path_factory.mktemp("wheels")
    out = scratch / "dist"
    built: dict[str, Path] = {}
    # Copies: setuptools would reuse stale files of an in-tree build/ directory.
    runtime = scratch / "runtime"
    shutil.copytree(ROOT / "runtime", runtime, ignore=NOT_SOURCES)
    built["skelgen_runtime"] = build_wheel(runtime, "skelgen_runtime", out)
    generator = scratch / "skelgen"
    generator.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, generator)
    shutil.copytree(ROOT / "skelgen", generator / "skelgen", ignore=NOT_SOURCES)
    built["skelgen"] = build_wheel(generator, "skelgen", out)
    env = {**os.environ, "SKELGEN_CACHE_DIR": str(scratch / "cache")}
    built["execcount"] = build_wheel(EXAMPLE, "execcount", out, env)
    return built


@pytest.mark.parametrize("name", ["skelgen_runtime", "skelgen"])
def test_both_distributions_ship_the_license(
    name: str, wheels: dict[str, Path]
) -> None:
    with zipfile.ZipFile(wheels[name]) as wheel:
        (license_file,) = [n for n in wheel.namelist() if n.endswith("/LICENSE")]
        assert license_file.endswith(".dist-info/licenses/LICENSE")
        assert wheel.read(license_file) == (ROOT / "LICENSE").read_bytes()
        metadata = next(n for n in wheel.namelist() if n.endswith("/METADATA"))
        assert "License-Expression: MIT" in wheel.read(metadata).decode()


def test_the_wheel_holds_the_generated_module_and_no_source(
    wheels: dict[str, Path],
) -> None:
    with zipfile.ZipFile(wheels["execcount"]) as wheel:
        names = set(wheel.namelist())
        module = wheel.read("execcount/execcount_skel.py").decode()
    assert "execcount/cli.py" in names
    assert not [n for n in names if n.endswith((".c", ".o"))]
    assert "class ExeccountBpf(Skeleton):" in module
    assert "events: RingBuf[event]" in module  # event-types from [tool.skelgen]
    assert "_object_data_" in module  # embedded
    assert not (EXAMPLE / "execcount" / "execcount_skel.py").exists()  # tree untouched


def test_the_tool_type_checks_against_its_generated_module(
    wheels: dict[str, Path], tmp_path: Path
) -> None:
    with zipfile.ZipFile(wheels["execcount"]) as wheel:
        wheel.extractall(tmp_path / "unpacked")
    proc = subprocess.run(
        [
            sys.executable, "-m", "mypy", "--strict", "--config-file", "",
            "--cache-dir", tmp_path / "mypy-cache", "-p", "execcount",
        ],
        cwd=tmp_path / "unpacked",
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_tool_runs_in_a_clean_venv_with_only_the_runtime(
    wheels: dict[str, Path], tmp_path: Path, root_only: None
) -> None:
    require(WHEELHOUSE.is_dir(), f"no {WHEELHOUSE}: scripts/setup.sh fills it")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True)
    python = venv / "bin" / "python"
    links = ("--find-links", WHEELHOUSE, "--find-links", wheels["execcount"].parent)
    pip("--python", python, "install", "-q", "--no-index", *links, wheels["execcount"])
    listed = json.loads(pip("--python", python, "list", "--format", "json"))
    assert {p["name"].lower() for p in listed} == {
        "execcount",
        "skelgen-runtime",
        "pyelftools",
    }

    # A program of our own name, exec'd three times while the tool runs.
    target = tmp_path / f"xc{os.getpid()}"[:15]
    shutil.copy("/bin/true", target)
    script = f"for i in 1 2 3; do {target}; done; exit 7"
    proc = subprocess.run(
        [venv / "bin" / "execcount", "--", "/bin/sh", "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 7, proc.stdout + proc.stderr  # the command's status
    assert proc.stderr == ""
    lines = proc.stdout.splitlines()
    assert lines[0].split() == ["PID", "PPID", "COMM", "FILENAME"]
    ours = [line.split() for line in lines if line.endswith(str(target))]
    assert len(ours) == 3, proc.stdout
    shell_pids = {fields[1] for fields in ours}  # all three have the shell as parent
    assert len(shell_pids) == 1 and [f[2] for f in ours] == [target.name] * 3
    counts = lines[lines.index("  COUNT COMM") + 1 :]
    assert f"      3 {target.name}" in counts, proc.stdout

    # The generator is not there (-I: not from the current directory either).
    for module, found in (("skelgen_runtime", True), ("skelgen", False)):
        check = subprocess.run([python, "-I", "-c", f"import {module}"], check=False)
        assert (check.returncode == 0) == found, module
