"""scripts/corpus_compare.py without a kernel: trees extracted from a git mirror
(a blob the mirror lacks left out, no dangling link), sources selected, outcomes
counted against each libbpf, the harness of a built libbpf told apart from the
system's one."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import ROOT, import_file

corpus_compare = import_file(ROOT / "scripts" / "corpus_compare.py", "corpus_compare")


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True
    ).stdout.strip()


def test_a_tree_is_extracted_from_a_mirror_without_the_blobs_it_lacks(
    tmp_path: Path,
) -> None:
    work = tmp_path / "work"
    (work / "tools" / "x86").mkdir(parents=True)
    (work / "tools" / "a.bpf.c").write_text('SEC(".struct_ops") int x;\n')
    (work / "tools" / "b.bpf.c").write_text('SEC("kprobe/f") int y;\n')
    (work / "tools" / "x86" / "big.h").write_text("huge\n")
    (work / "tools" / "x86" / "vmlinux.h").symlink_to("big.h")
    (work / "other.txt").write_text("not asked for\n")
    _git(tmp_path, "init", "-q", str(work))
    _git(work, "add", ".")
    _git(work, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x")
    mirror = tmp_path / "mirrors" / "owner+name" / "repo"
    subprocess.run(["git", "clone", "-q", "--bare", str(work), str(mirror)], check=True)
    big = _git(work, "rev-parse", "HEAD:tools/x86/big.h")
    (mirror / "objects" / big[:2] / big[2:]).unlink()  # as the tool library does

    dest = tmp_path / "tree"
    tree = corpus_compare.extract("owner/name", ("tools",), tmp_path / "mirrors", dest)
    assert tree == dest
    files = sorted(str(p.relative_to(dest)) for p in dest.rglob("*"))
    assert files == ["tools", "tools/a.bpf.c", "tools/b.bpf.c", "tools/x86"]
    assert (
        corpus_compare.extract("no/such", ("tools",), tmp_path / "mirrors", dest)
        is None
    )

    corpus = corpus_compare.Corpus(
        repo="owner/name",
        paths=("tools",),
        sources="tools",
        pattern="*.bpf.c",
        select=corpus_compare._struct_ops_or_freplace,
    )
    assert [p.name for p in corpus_compare.sources(corpus, dest)] == ["a.bpf.c"]
    every = corpus_compare.sources(corpus, dest, every=True)
    assert [p.name for p in every] == ["a.bpf.c", "b.bpf.c"]


def test_outcomes_agree_with_each_libbpf_when_both_load_or_both_refuse() -> None:
    outcome = corpus_compare.Outcome
    report = corpus_compare.Report(
        "c",
        {"system": "1.1", "mirror": "1.8 at f7081a6b"},
        sources=3,
        compiled=2,
        outcomes=[
            outcome("a.o", "p", "xdp", "ok", {"system": "ok", "mirror": "ok"}),
            outcome(
                "a.o",
                "q",
                "fentry/f",
                "EPERM",
                {"system": "errno 1: refused", "mirror": "errno 1: refused"},
            ),
            outcome(
                "b.o",
                "r",
                "struct_ops.s/t",
                "ok",
                {"system": "errno 22: refused", "mirror": "ok"},
            ),
        ],
    )
    assert [o.agrees_with("system") for o in report.outcomes] == [True, True, False]
    assert [o.agrees_with("mirror") for o in report.outcomes] == [True, True, True]
    assert [o.agree for o in report.outcomes] == [True, True, False]
    assert report.summary() == (
        "c: 2/3 sources compiled, 3 programs, skelgen loads 2\n"
        "  libbpf 1.1 (system): loads 1, 2/3 agree\n"
        "  libbpf 1.8 at f7081a6b (mirror): loads 2, 3/3 agree"
    )


def test_the_version_of_a_libbpf_comes_from_its_header(tmp_path: Path) -> None:
    header = tmp_path / "libbpf_version.h"
    header.write_text(
        "#ifndef __LIBBPF_VERSION_H\n"
        "#define LIBBPF_MAJOR_VERSION 1\n#define LIBBPF_MINOR_VERSION 8\n#endif\n"
    )
    assert corpus_compare.libbpf_version(header) == "1.8"
    header.write_text("#define LIBBPF_MAJOR_VERSION 1\n")
    with pytest.raises(ValueError, match="LIBBPF_MINOR_VERSION"):
        corpus_compare.libbpf_version(header)


def test_a_built_libbpf_gets_its_own_statically_linked_harness(
    tmp_path: Path,
) -> None:
    oracle = corpus_compare.libbpf_oracle
    system = oracle.harness_path(tmp_path)
    built = oracle.harness_path(tmp_path, tmp_path / "libbpf" / "f7081a6b")
    other = oracle.harness_path(tmp_path, tmp_path / "libbpf" / "0123abcd")
    assert len({system, built, other}) == 3
    assert system == oracle.harness_path(tmp_path, None)
    command = oracle.libbpf_build_command(tmp_path / "src-tree", tmp_path / "out")
    assert command[:4] == ["make", "-s", "-C", str(tmp_path / "src-tree" / "src")]
    assert "BUILD_STATIC_ONLY=1" in command
    assert f"DESTDIR={tmp_path / 'out'}" in command
    assert f"OBJDIR={tmp_path / 'out' / 'obj'}" in command


def test_libbpf_is_the_system_one_or_the_mirror_s(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_:
        corpus_compare.main(["--libbpf", "newest"])
    assert exit_.value.code == 2
    assert "invalid choice: 'newest'" in capsys.readouterr().err
