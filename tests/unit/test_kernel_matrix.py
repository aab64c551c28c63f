"""The pure parts of the kernel matrix (scripts/kernels): the host's apt sources read
for mirror URIs, the guest's kernel command line, and JUnit files of real pytest runs
read back into ok / clear error / fails."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts" / "kernels"))

import debian
import report
import vm


def test_mirrors_come_from_deb822_and_one_line_sources(tmp_path: Path) -> None:
    (tmp_path / "debian.sources").write_text(textwrap.dedent("""\
            Types: deb-src
            URIs: http://src.invalid/debian
            Suites: bookworm

            Types: deb
            URIs: http://off.invalid/debian
            Suites: bookworm
            Enabled: no

            Types: deb
            # a comment: with a colon
            URIs: http://archive.invalid/debian
            Suites: bookworm bookworm-updates
            Components: main
            """))
    (tmp_path / "security.list").write_text(
        "# deb http://commented.invalid bookworm-security main\n"
        "deb [arch=amd64 signed-by=/k.gpg] http://security.invalid/ds bookworm-security main\n"
    )
    entries = debian.source_entries(
        [tmp_path / "security.list", tmp_path / "debian.sources"]
    )
    assert debian.host_mirrors("bookworm", entries) == (
        "http://archive.invalid/debian",
        "http://security.invalid/ds",
    )
    with pytest.raises(debian.KernelError, match="trixie"):
        debian.host_mirrors("trixie", entries)


def test_os_release_names_the_codename(tmp_path: Path) -> None:
    release = tmp_path / "os-release"
    release.write_text('NAME="Debian GNU/Linux"\nVERSION_CODENAME=bookworm\n')
    assert debian.host_codename(release) == "bookworm"
    release.write_text('NAME="Other"\n')
    with pytest.raises(debian.KernelError, match="VERSION_CODENAME"):
        debian.host_codename(release)


def _kernel(tmp_path: Path, lsm: str) -> debian.Kernel:
    boot = tmp_path / "boot"
    boot.mkdir(exist_ok=True)
    (boot / "config-5.10.0-1-amd64").write_text(f"CONFIG_BPF=y\nCONFIG_LSM={lsm}\n")
    return debian.Kernel(
        "5.10", "linux-image-5.10.0-1-amd64", "5.10.1-1", "5.10.0-1-amd64", tmp_path
    )


def test_the_bpf_lsm_is_added_only_where_the_default_list_lacks_it(
    tmp_path: Path,
) -> None:
    old = _kernel(tmp_path, '"lockdown,yama,apparmor"')
    assert vm.kernel_arguments(old) == ["lsm=lockdown,yama,apparmor,bpf"]
    new = _kernel(tmp_path, '"landlock,lockdown,yama,bpf"')
    assert vm.kernel_arguments(new) == []


SAMPLE_TESTS = """
import pytest
from skelgen_runtime.errors import LoadError, MapError

def test_passes():
    pass

def test_skips():
    pytest.skip("kernel lacks netkit")

def test_wrong_value():
    assert 1 + 1 == 3

def test_refused():
    raise LoadError("load program x: the kernel refused it: EINVAL")

@pytest.fixture
def broken():
    raise MapError("create map m: EPERM\\nthe verifier's log, line 2")

def test_setup_error(broken):
    pass

@pytest.fixture
def leaky():
    yield
    raise OSError("fd leaked")

def test_teardown_error(leaky):
    pass
"""


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory: pytest.TempPathFactory) -> list[report.TestResult]:
    """A real pytest run's JUnit file, read back."""
    directory = tmp_path_factory.mktemp("junit")
    (directory / "test_sample.py").write_text(SAMPLE_TESTS)
    junit = directory / "junit.xml"
    pytest = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    subprocess.run(
        [*pytest, "--rootdir", str(directory), f"--junitxml={junit}", "test_sample.py"],
        cwd=directory,
        capture_output=True,
        check=False,
    )
    return report.read_junit(junit)


def test_junit_outcomes_and_verdicts(sample_run: list[report.TestResult]) -> None:
    got = {r.test: (r.outcome, r.verdict) for r in sample_run}
    assert got == {
        "test_sample::test_passes": ("passed", "ok"),
        "test_sample::test_skips": ("skipped", "skipped"),
        "test_sample::test_wrong_value": ("failed", "fails"),
        "test_sample::test_refused": ("failed", "clear error"),
        "test_sample::test_setup_error": ("error", "clear error"),
        "test_sample::test_teardown_error": ("error", "fails"),  # the worse of two
    }
    refused = next(r for r in sample_run if r.test.endswith("refused"))
    assert refused.message == (
        "skelgen_runtime.errors.LoadError: load program x: the kernel refused it: EINVAL"
    )


def test_tables_and_causes(sample_run: list[report.TestResult]) -> None:
    run = report.KernelRun(
        "5.10", "5.10.1-1", "5.10.0-1-amd64", 1, 75.0, "x", True, "d"
    )
    run.results = sample_run
    assert "| 5.10 (5.10.0-1-amd64) | 5.10.1-1 | 1 | 2 | 2 | 1 | 1:15 | exit 1 |" in (
        report.summary_table([run])
    )
    # tests of no listed feature form a row named after their module
    assert "| test_sample | fails 1/6 |" in report.feature_table([run])
    causes = report.failure_causes(run)
    assert len(causes) == 4
    assert any("clear error: `skelgen_runtime.errors.MapError" in c for c in causes)


def test_the_docs_keep_what_is_around_the_generated_part(tmp_path: Path) -> None:
    docs = tmp_path / "kernels.md"
    docs.write_text(f"before\n{report.BEGIN}\nold\n{report.END}\nafter\n")
    report.update_docs(docs, [])
    text = docs.read_text()
    assert text.startswith(f"before\n{report.BEGIN}\n") and text.endswith(
        f"{report.END}\nafter\n"
    )
    assert "old" not in text
