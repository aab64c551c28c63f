"""scripts/corpus_compare.py without a kernel: trees extracted from a git mirror
(a blob the mirror lacks left out, no dangling link), sources selected, outcomes
counted."""

from __future__ import annotations

import subprocess
from pathlib import Path

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


def test_outcomes_agree_when_both_load_or_both_refuse() -> None:
    outcome = corpus_compare.Outcome
    report = corpus_compare.Report(
        "c",
        sources=2,
        compiled=2,
        outcomes=[
            outcome("a.o", "p", "xdp", "ok", "ok"),
            outcome("a.o", "q", "fentry/f", "EPERM", "errno 1: refused"),
            outcome("b.o", "r", "tc", "ok", "errno 22: refused"),
        ],
    )
    assert [o.agree for o in report.outcomes] == [True, True, False]
    assert report.summary() == (
        "c: 2/2 sources compiled, 3 programs: 2/3 agree "
        "(skelgen loads 2, libbpf loads 1)"
    )
