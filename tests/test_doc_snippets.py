"""The code of the guides in docs/ is real: it compiles, type-checks and runs.

A fenced block right after ``<!-- snippet: PROJECT/FILE -->`` belongs to file FILE of
a small project; blocks naming the same file are joined in page order (a guide shows
a program in steps).  For each project: every ``*.bpf.c`` goes through ``skelgen
compile`` (as the guides tell readers to; a ``build.sh`` block instead gives the
``skelgen`` commands), every ``*.py`` through ``mypy --strict``
with the generated modules next to it, and then runs as root; where the page shows
its output (``FILE.py.out``) the output must be exactly that.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import require

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
_SNIPPET = re.compile(
    r"^<!-- snippet: (?P<path>[\w./-]+) -->\n```[^\n]*\n(?P<code>.*?)^```",
    re.MULTILINE | re.DOTALL,
)


def snippets() -> dict[str, dict[str, str]]:
    """project → file → text, over every page of docs/."""
    projects: dict[str, dict[str, str]] = {}
    for page in sorted(DOCS.glob("*.md")):
        for match in _SNIPPET.finditer(page.read_text()):
            project, _, name = match["path"].partition("/")
            assert name and "/" not in name, f"{page.name}: {match['path']}"
            files = projects.setdefault(project, {})
            files[name] = files.get(name, "") + match["code"]
    return projects


PROJECTS = snippets()


def test_the_snippets_are_found() -> None:
    """Guards the tests below against a pattern that matches nothing."""
    assert {"hello", "broken", "from_bcc", "from_libbpf"} <= set(PROJECTS)
    assert "hello.bpf.c" in PROJECTS["hello"] and "app.py.out" in PROJECTS["hello"]


def _run(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cmd, cwd=cwd, capture_output=True, text=True, check=False, timeout=300
    )


def _build_commands(files: dict[str, str]) -> list[list[str]]:
    """The ``skelgen`` lines of the project's ``build.sh`` (the commands the page
    shows), else ``skelgen compile X.bpf.c -o X_skel.py`` for each source."""
    skelgen = [sys.executable, "-m", "skelgen"]
    if "build.sh" in files:
        lines = [shlex.split(line) for line in files["build.sh"].splitlines()]
        commands = [skelgen + words[1:] for words in lines if words[:1] == ["skelgen"]]
        assert commands, "build.sh runs no skelgen command"
        return commands
    return [
        [*skelgen, "compile", name, "-o", name.removesuffix(".bpf.c") + "_skel.py"]
        for name in sorted(files)
        if name.endswith(".bpf.c")
    ]


@pytest.fixture(scope="module")
def mypy_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mypy-cache")


@pytest.mark.parametrize("project", sorted(PROJECTS))
def test_the_snippets_compile_type_check_and_run(
    project: str, tmp_path: Path, mypy_cache: Path
) -> None:
    require(
        any(shutil.which(c) for c in ("clang-19", "clang")), "needs clang (or clang-19)"
    )
    files = PROJECTS[project]
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    for cmd in _build_commands(files):
        built = _run(cmd, tmp_path)
        assert built.returncode == 0, built.stderr
    scripts = sorted(p.name for p in tmp_path.glob("*.py") if "_skel" not in p.name)
    assert scripts, f"project {project} has no Python file"
    checked = _run(
        [sys.executable, "-m", "mypy", "--strict", "--config-file", "",
         "--cache-dir", str(mypy_cache), "--no-error-summary", *scripts],
        tmp_path,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stdout + checked.stderr
    require(os.geteuid() == 0, "needs root for bpf()")
    for script in scripts:
        ran = _run([sys.executable, script], tmp_path)
        assert ran.returncode == 0, f"{script}:\n{ran.stdout}{ran.stderr}"
        expected = files.get(f"{script}.out")
        if expected is not None:
            assert ran.stdout == expected, f"{script} printed:\n{ran.stdout}"
