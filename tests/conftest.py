"""Shared fixtures: BPF objects compiled from ``tests/bpf`` once per session.

Tests run against the real kernel and real toolchain.  Where a prerequisite is
missing they skip — except under CI (``CI=true``), where ``make test`` installed
everything and a skip would hide a broken set-up, so they fail instead.

``--build-cache DIR`` keeps compiled objects across runs; ``--build-cache-only``
compiles nothing and takes every object from DIR (see ``build_cache.py``).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest
from build_cache import BuildCache, bpf_source

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
sys.path.insert(0, str(ROOT))  # the fuzz harness (``fuzz/``), whose model edits objects


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("skelgen", "compiled test objects")
    group.addoption(
        "--build-cache",
        metavar="DIR",
        type=Path,
        help="keep compiled BPF objects, test programs and the libbpf harness in DIR, "
        "named by a hash of source, flags and vmlinux.h",
    )
    group.addoption(
        "--build-cache-only",
        action="store_true",
        help="compile nothing: take every build from --build-cache (in a VM)",
    )


def pytest_configure(config: pytest.Config) -> None:
    root: Path | None = config.getoption("build_cache")
    if config.getoption("build_cache_only") and root is None:
        raise pytest.UsageError("--build-cache-only needs --build-cache DIR")
    if root is not None:
        # run_libbpf() finds its harness there (libbpf_oracle.default_harness_dir).
        os.environ["SKELGEN_ORACLE_CACHE"] = str(BuildCache(root).harness_dir)


def require(condition: bool, why: str) -> None:
    """Skip (fail under CI) when a prerequisite is missing."""
    if condition:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"prerequisite missing under CI: {why}")
    pytest.skip(why)


@pytest.fixture(scope="session")
def build_cache(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> BuildCache:
    root: Path | None = request.config.getoption("build_cache")
    cache = BuildCache(
        root.resolve() if root is not None else tmp_path_factory.mktemp("build"),
        compile=not request.config.getoption("build_cache_only"),
    )
    missing = cache.missing_prerequisites()
    require(not missing, f"missing: {', '.join(missing)}")
    return cache


@pytest.fixture(scope="session")
def build_bpf(build_cache: BuildCache) -> Callable[[str], Path]:
    """``build_bpf("minimal")`` compiles ``tests/bpf/minimal.bpf.c`` (or a path)."""
    return lambda name: build_cache.bpf_object(bpf_source(name))


@pytest.fixture(scope="session")
def build_c(build_cache: BuildCache) -> Callable[..., Path]:
    """``build_c(source, out, *flags)``: a C program for this machine, copied to
    ``out`` (a private, writable copy: the cache may be read-only)."""

    def build(source: Path, out: Path, *flags: str) -> Path:
        shutil.copy2(build_cache.c_program(source, *flags), out)
        return out

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
    build_bpf: Callable[[str], Path], build_cache: BuildCache
) -> Callable[[str], ModuleType]:
    """``skeleton_module("globals")``: compile, run the generator, import the module."""
    cache: dict[str, ModuleType] = {}

    def generate(name: str) -> ModuleType:
        if name not in cache:
            path = build_cache.skeleton(build_bpf(name))
            cache[name] = import_file(path, f"skel_{name}_{len(cache)}")
        return cache[name]

    return generate


@pytest.fixture
def root_only() -> None:
    require(os.geteuid() == 0, "needs root for bpf()")


def open_fds() -> set[int]:
    return {int(fd) for fd in os.listdir("/proc/self/fd")}
