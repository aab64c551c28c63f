"""Start-up is a feature: a generated module imports only what its object needs.

Each measure is a new interpreter (``-X importtime`` would add its own cost), its CPU
time read by itself; the budget is relative to a bare interpreter's start on the
same machine, best of a few runs each, so a busy machine moves both alike.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from build_cache import BuildCache

RUNS = 5
# Import of the generated module (CPU time) against the start of a bare
# interpreter: 8x before the runtime stopped importing typing, dataclasses and enum,
# about 3x after (December 2026); this keeps it from growing again.
IMPORT_BUDGET = 4.0
# What a skeleton of a non-CO-RE object never imports to be opened: the ELF and
# syscall-table libraries, asyncio, CO-RE, the object reader, and the standard
# modules that cost an interpreter start or more (skelgen_runtime.lean stands in).
NEVER_IMPORTED = (
    "elftools",
    "ptrace",
    "asyncio",
    "typing",
    "dataclasses",
    "enum",
    "re",
    "inspect",
    "pathlib",
    "socket",
    "pickle",
    "skelgen_runtime.btf.core",
    "skelgen_runtime.obj.elf",
)

BARE = "import time; print(time.process_time_ns())"
OPENED = """
import sys, time
sys.path.insert(0, {directory!r})
before = time.process_time_ns()
import {module} as module
imported = time.process_time_ns() - before
from skelgen_runtime import Skeleton
(skeleton,) = [v for v in vars(module).values()
               if isinstance(v, type) and issubclass(v, Skeleton) and v is not Skeleton]
skel = skeleton.open_and_load() if {load} else skeleton.open()
skel.destroy()
modules = sorted(sys.modules)
import json  # after the list: json imports re
print(json.dumps({{"import_ns": imported, "modules": modules}}))
"""


def _python(code: str, pycache: Path) -> str:
    # byte-compiled once, as an installed module is, whatever the caller's
    # PYTHONDONTWRITEBYTECODE says
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(pycache)
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout


@pytest.fixture(scope="module")
def generated(build_bpf: Callable[[str], Path], build_cache: BuildCache) -> Path:
    # globals: every kind of global-data section, subprograms, a hash map; no CO-RE
    return build_cache.skeleton(build_bpf("globals"))


def _opened(module: Path, pycache: Path, load: bool = False) -> dict[str, object]:
    code = OPENED.format(directory=str(module.parent), module=module.stem, load=load)
    result: dict[str, object] = json.loads(_python(code, pycache))
    return result


def test_opening_an_embedded_object_imports_no_heavy_package(
    generated: Path, tmp_path: Path
) -> None:
    modules = _opened(generated, tmp_path)["modules"]
    assert isinstance(modules, list)
    loaded = [
        m for m in modules if m.split(".")[0] in NEVER_IMPORTED or m in NEVER_IMPORTED
    ]
    assert loaded == []


def test_import_stays_within_its_budget(generated: Path, tmp_path: Path) -> None:
    _opened(generated, tmp_path)  # byte-compiled, page cache warm
    bare = min(int(_python(BARE, tmp_path)) for _ in range(RUNS))
    imports = []
    for _ in range(RUNS):
        import_ns = _opened(generated, tmp_path)["import_ns"]
        assert isinstance(import_ns, int)
        imports.append(import_ns)
    ratio = min(imports) / bare
    assert ratio <= IMPORT_BUDGET, (
        f"importing the generated module costs {ratio:.1f}x a bare interpreter's start"
        f" (budget {IMPORT_BUDGET}x)"
    )


@pytest.mark.usefixtures("root_only")
def test_a_co_re_load_reads_no_elf(
    build_bpf: Callable[[str], Path], build_cache: BuildCache, tmp_path: Path
) -> None:
    # CO-RE against /sys/kernel/btf/vmlinux (raw BTF), __kconfig externs
    module = build_cache.skeleton(build_bpf("tool_execsnoop"))
    modules = _opened(module, tmp_path, load=True)["modules"]
    assert isinstance(modules, list)
    assert "skelgen_runtime.btf.core" in modules  # it did relocate
    assert not [m for m in modules if m.startswith(("elftools", "ptrace"))]
    assert "skelgen_runtime.obj.elf" not in modules
