"""Shared fixtures: BPF objects compiled from ``tests/bpf`` once per session.

Tests run against the real kernel and real toolchain.  Where a prerequisite is
missing they skip — except under CI (``CI=true``), where ``make test`` installed
everything and a skip would hide a broken set-up, so they fail instead.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
sys.path.insert(0, str(TESTS / "oracle"))
sys.path.insert(0, str(ROOT))  # the fuzz harness (``fuzz/``), whose model edits objects

import libbpf_oracle  # noqa: E402

BPF_SOURCES = TESTS / "bpf"


def require(condition: bool, why: str) -> None:
    """Skip (fail under CI) when a prerequisite is missing."""
    if condition:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"prerequisite missing under CI: {why}")
    pytest.skip(why)


def _multiarch_include() -> list[Path]:
    try:
        triple = subprocess.run(
            ["gcc", "-print-multiarch"], capture_output=True, text=True, check=False
        ).stdout.strip()
    except OSError:
        return []
    path = Path("/usr/include") / triple
    return [path] if triple and path.is_dir() else []


@pytest.fixture(scope="session")
def bpf_build_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    missing = libbpf_oracle.missing_prerequisites()
    require(not missing, f"missing: {', '.join(missing)}")
    out = tmp_path_factory.mktemp("bpf")
    libbpf_oracle.generate_vmlinux_h(out / "include")
    return out


@pytest.fixture(scope="session")
def build_bpf(bpf_build_dir: Path) -> Callable[[str], Path]:
    """``build_bpf("minimal")`` compiles ``tests/bpf/minimal.bpf.c`` (or a path)."""
    cache: dict[str, Path] = {}

    def build(name: str) -> Path:
        if name not in cache:
            source = (
                Path(name) if name.endswith(".c") else BPF_SOURCES / f"{name}.bpf.c"
            )
            cache[name] = libbpf_oracle.compile_bpf(
                source,
                bpf_build_dir / "obj",
                include_dirs=[bpf_build_dir / "include", *_multiarch_include()],
            )
        return cache[name]

    return build


def import_file(path: Path, module_name: str) -> ModuleType:
    """Import a generated module from its file, under a name of the test's choosing."""
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def skeleton_module(
    build_bpf: Callable[[str], Path], tmp_path_factory: pytest.TempPathFactory
) -> Callable[[str], ModuleType]:
    """``skeleton_module("globals")``: compile, run the generator, import the module."""
    out = tmp_path_factory.mktemp("skel")
    cache: dict[str, ModuleType] = {}

    def generate(name: str) -> ModuleType:
        if name not in cache:
            obj = build_bpf(name)
            path = out / f"{obj.name.removesuffix('.bpf.o')}_skel.py"
            subprocess.run(
                [sys.executable, "-m", "skelgen", str(obj), "-o", str(path)], check=True
            )
            cache[name] = import_file(path, f"skel_{name}_{len(cache)}")
        return cache[name]

    return generate


@pytest.fixture
def root_only() -> None:
    require(os.geteuid() == 0, "needs root for bpf()")


def open_fds() -> set[int]:
    return {int(fd) for fd in os.listdir("/proc/self/fd")}
