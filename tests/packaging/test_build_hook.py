"""The hatchling build hook on copies of ``examples/packaged``: an editable build
writes the module into the tree, bad input ends the build with one line."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ROOT

EXAMPLE = ROOT / "examples" / "packaged"


@pytest.fixture(scope="module", autouse=True)
def one_vmlinux_h(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The builds of this module share a cache directory of their own."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SKELGEN_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        yield


@pytest.fixture
def project(tmp_path: Path) -> Path:
    copy = tmp_path / "execcount"
    shutil.copytree(EXAMPLE, copy)
    (tmp_path / "tmp").mkdir()
    return copy


def hatchling(
    project: Path, hook: str = "build_wheel"
) -> subprocess.CompletedProcess[str]:
    """A PEP 517 hook of hatchling, run in ``project`` as a frontend would;
    whether it succeeds or fails, it leaves no temporary file behind."""
    temporary = project.parent / "tmp"
    proc = subprocess.run(
        [sys.executable, "-c", f"from hatchling.build import {hook}; {hook}('dist')"],
        cwd=project,
        env={**os.environ, "TMPDIR": str(temporary)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert list(temporary.iterdir()) == []
    return proc


def assert_fails_with(proc: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("skelgen: "), proc.stderr
    for needle in needles:
        assert needle in last


def test_the_module_goes_into_the_wheel_or_for_editable_builds_the_tree(
    project: Path,
) -> None:
    module = project / "execcount" / "execcount_skel.py"
    proc = hatchling(project)
    assert proc.returncode == 0, proc.stderr
    (wheel,) = project.glob("dist/execcount-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        assert (
            "class ExeccountBpf(Skeleton):"
            in archive.read("execcount/execcount_skel.py").decode()
        )
    assert not module.exists()
    proc = hatchling(project, "build_editable")
    assert proc.returncode == 0, proc.stderr
    assert "events: RingBuf[event]" in module.read_text()


def test_a_misspelled_key_fails_the_build(project: Path) -> None:
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace("event-types", "evnet-types"))
    assert_fails_with(hatchling(project), "modules[0]", "'evnet-types'")
    assert not list(project.glob("dist/*.whl"))


def test_a_generator_error_names_the_source(project: Path) -> None:
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text().replace('events = "event"', 'events = "nothing"')
    pyproject.write_text(text)
    assert_fails_with(hatchling(project), "bpf/execcount.bpf.c", "nothing")


def test_clang_diagnostics_come_before_the_line(project: Path) -> None:
    source = project / "bpf" / "execcount.bpf.c"
    source.write_text(source.read_text() + "\nint broken = ;\n")
    proc = hatchling(project)
    assert_fails_with(proc, "execcount.bpf.c", "clang failed")
    assert "error: expected expression" in proc.stderr


def test_a_missing_source_fails_the_build(project: Path) -> None:
    (project / "bpf" / "execcount.bpf.c").unlink()
    assert_fails_with(hatchling(project), "execcount.bpf.c", "no such file")
