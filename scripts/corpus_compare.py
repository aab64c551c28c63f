#!/usr/bin/env python3
"""Load every program of real BPF objects alone, with skelgen and with C libbpf, and
report where the two loaders disagree (docs/attach.md, "Held-out corpora").

The corpora are other projects' sources, compiled here; nothing of them is committed:
each is extracted at run time from a git repository into build/corpus/ and compiled
with clang against its own headers.  A repository comes from a local git mirror
(``--mirrors DIR`` holding ``OWNER+NAME/repo``, the layout of the project's tool
library) or an existing checkout (``--tree CORPUS=DIR``).  Each program is loaded
alone (every other program's autoload off) by skelgen_runtime in this process and by
libbpf through the test suite's C harness (tests/oracle/libbpf_harness.c); the two
agree when both load it or both refuse it.  ``--libbpf`` chooses the libbpf of the
harness, repeatable to compare with each: ``system`` (the default, the system's
libbpf-dev) or ``mirror`` (the newest commit of the libbpf mirror, built here as a
static library, cached by commit under build/corpus/libbpf/).

    .venv/bin/python scripts/corpus_compare.py                      # every corpus found
    .venv/bin/python scripts/corpus_compare.py --corpus libbpf-tools --json out.json
    .venv/bin/python scripts/corpus_compare.py --tree selftests=~/linux
    .venv/bin/python scripts/corpus_compare.py --libbpf system --libbpf mirror

Needs root (bpf()), clang, bpftool and libbpf-dev, as the kernel tests do; with
``mirror`` also make, libelf-dev and zlib1g-dev (scripts/setup.sh installs them).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tests" / "oracle"))

import libbpf_oracle  # noqa: E402
from build_cache import system_includes  # noqa: E402
from skelgen_runtime import BPFError, BPFObject  # noqa: E402

BUILD = ROOT / "build" / "corpus"
DEFAULT_MIRRORS = Path(os.environ.get("SKELGEN_MIRRORS", "/work/.mirror"))
LIBBPF_REPO = "libbpf/libbpf"  # its src/*.h become <bpf/...> for every corpus
SYSTEM_LIBBPF_VERSION_H = Path("/usr/include/bpf/libbpf_version.h")
ORACLES = ("system", "mirror")  # where the harness's libbpf comes from


def _struct_ops_or_freplace(text: str) -> bool:
    return bool(re.search(r'SEC\("(\?)?\.struct_ops|SEC\("freplace', text))


@dataclass(frozen=True)
class Corpus:
    repo: str  # OWNER/NAME
    paths: tuple[str, ...]  # what to extract from the repository
    sources: str  # the directory of the BPF sources
    pattern: str  # their file names
    includes: tuple[str, ...] = ()  # relative to the tree
    select: Callable[[str], bool] = lambda text: True  # which sources count
    flags: tuple[str, ...] = ()


CORPORA: dict[str, Corpus] = {
    "libbpf-tools": Corpus(
        repo="iovisor/bcc",
        paths=("libbpf-tools",),
        sources="libbpf-tools",
        pattern="*.bpf.c",
        includes=("libbpf-tools", "libbpf-tools/x86"),
    ),
    "libbpf-bootstrap": Corpus(
        repo="libbpf/libbpf-bootstrap",
        paths=("examples/c",),
        sources="examples/c",
        pattern="*.bpf.c",
        includes=("examples/c",),
    ),
    # cilium/ebpf's test objects: struct_ops, freplace, linking, invalid objects.
    "cilium-testdata": Corpus(
        repo="cilium/ebpf",
        paths=("testdata",),
        sources="testdata",
        pattern="*.c",
        includes=("testdata",),
    ),
    # struct_ops and freplace programs of the kernel's BPF selftests.
    "selftests": Corpus(
        repo="torvalds/linux",
        paths=("tools/testing/selftests/bpf", "tools/include", "tools/lib/bpf"),
        sources="tools/testing/selftests/bpf/progs",
        pattern="*.c",
        includes=(
            "tools/testing/selftests/bpf",
            "tools/testing/selftests/bpf/progs",
            "tools/include/uapi",
        ),
        select=_struct_ops_or_freplace,
        # Some sources include glibc's headers, which without __x86_64__ ask for
        # the 32-bit gnu/stubs-32.h a 64-bit-only libc6-dev lacks.
        flags=("-Wno-compare-distinct-pointer-types", "-mcpu=v3", "-D__x86_64__"),
    ),
}


@dataclass(frozen=True)
class Oracle:
    """A libbpf to compare with: one of ORACLES, its version, its harness."""

    name: str
    version: str  # "1.1", or "1.8 at f7081a6b" for a mirror's commit
    harness: Path


@dataclass
class Outcome:
    object: str
    program: str
    section: str
    skelgen: str  # "ok" or the error's first line
    libbpf: dict[str, str]  # the same, by Oracle.name

    def agrees_with(self, oracle: str) -> bool:
        return (self.skelgen == "ok") == (self.libbpf[oracle] == "ok")

    @property
    def agree(self) -> bool:
        return all(self.agrees_with(oracle) for oracle in self.libbpf)


@dataclass
class Report:
    corpus: str
    oracles: dict[str, str]  # Oracle.name: Oracle.version
    sources: int = 0
    compiled: int = 0
    compile_failures: list[str] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)

    def summary(self) -> str:
        total = len(self.outcomes)
        ours = sum(o.skelgen == "ok" for o in self.outcomes)
        lines = [
            f"{self.corpus}: {self.compiled}/{self.sources} sources compiled, "
            f"{total} programs, skelgen loads {ours}"
        ]
        for oracle, version in self.oracles.items():
            agree = sum(o.agrees_with(oracle) for o in self.outcomes)
            theirs = sum(o.libbpf[oracle] == "ok" for o in self.outcomes)
            lines.append(
                f"  libbpf {version} ({oracle}): loads {theirs}, {agree}/{total} agree"
            )
        return "\n".join(lines)


# -- trees and headers ------------------------------------------------------------------


def extract(
    repo: str, paths: tuple[str, ...], mirrors: Path, dest: Path
) -> Path | None:
    """``paths`` of ``repo``'s newest commit under ``dest``; None without a mirror.
    A mirror may lack its largest files (a corpus's own vmlinux.h): those are left
    out, and this kernel's vmlinux.h stands in."""
    git_dir = mirrors / repo.replace("/", "+") / "repo"
    if not git_dir.is_dir():
        return None
    if dest.exists():
        shutil.rmtree(dest)
    git = ["git", f"--git-dir={git_dir}"]
    listing = subprocess.run(
        [*git, "ls-tree", "-r", "-z", "HEAD", "--", *paths],
        capture_output=True,
        check=True,
    ).stdout
    links = []
    for entry in filter(None, listing.split(b"\0")):
        meta, name = entry.split(b"\t", 1)
        mode, kind, blob = meta.split()
        if kind != b"blob":
            continue  # a submodule
        target = dest / name.decode()
        data = subprocess.run([*git, "cat-file", "blob", blob], capture_output=True)
        if data.returncode != 0:
            continue  # not in the mirror
        target.parent.mkdir(parents=True, exist_ok=True)
        if mode == b"120000":
            links.append((target, data.stdout.decode()))
        else:
            target.write_bytes(data.stdout)
    for link, to in links:
        if (link.parent / to).exists():  # no dangling links: the next -I dir serves
            link.symlink_to(to)
    return dest


def head_commit(repo: str, mirrors: Path) -> str:
    """The commit extract() takes ``repo`` at."""
    git_dir = mirrors / repo.replace("/", "+") / "repo"
    return subprocess.run(
        ["git", f"--git-dir={git_dir}", "rev-parse", "HEAD"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def libbpf_tree(mirrors: Path) -> Path | None:
    """The newest libbpf's ``src/`` and ``include/``, or None without a mirror."""
    return extract(LIBBPF_REPO, ("src", "include"), mirrors, BUILD / "trees" / "libbpf")


def libbpf_headers(tree: Path) -> Path:
    """A directory holding ``bpf/*.h`` of the libbpf ``tree``."""
    include = BUILD / "include"
    target = include / "bpf"
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    for header in (tree / "src").glob("*.h"):
        shutil.copy2(header, target / header.name)
    return include


def sources(corpus: Corpus, tree: Path, every: bool = False) -> Iterator[Path]:
    """The corpus's sources in ``tree``: those its ``select`` picks, or ``every``
    one (a tree of hand-picked files, such as selftests taken file by file)."""
    for path in sorted((tree / corpus.sources).glob(corpus.pattern)):
        if every or corpus.select(path.read_text(errors="replace")):
            yield path


def libbpf_version(header: Path) -> str:
    """``MAJOR.MINOR`` from a ``libbpf_version.h``."""
    text = header.read_text()
    major, minor = (
        re.search(rf"#define\s+LIBBPF_{part}_VERSION\s+(\d+)", text)
        for part in ("MAJOR", "MINOR")
    )
    if major is None or minor is None:
        raise ValueError(f"{header}: no LIBBPF_MAJOR_VERSION/LIBBPF_MINOR_VERSION")
    return f"{major[1]}.{minor[1]}"


def make_oracle(name: str, tree: Path | None, mirrors: Path) -> Oracle:
    """The harness of oracle ``name`` (ORACLES), built if need be: ``system`` links
    the system's libbpf, ``mirror`` one built statically from the libbpf ``tree``
    extracted from ``mirrors`` (its commit names the build's cache)."""
    harnesses = BUILD / "harness"
    if name == "system":
        version = libbpf_version(SYSTEM_LIBBPF_VERSION_H)
        return Oracle(name, version, libbpf_oracle.build_harness(harnesses))
    if tree is None:
        raise libbpf_oracle.OracleError(f"no mirror of {LIBBPF_REPO} in {mirrors}")
    commit = head_commit(LIBBPF_REPO, mirrors)
    prefix = libbpf_oracle.build_libbpf(tree, BUILD / "libbpf" / commit[:12])
    version = libbpf_version(prefix / "include" / "bpf" / "libbpf_version.h")
    return Oracle(
        name,
        f"{version} at {commit[:8]}",
        libbpf_oracle.build_harness(harnesses, prefix),
    )


# -- loading ----------------------------------------------------------------------------


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "failed"


def load_with_skelgen(obj: Path, program: str) -> str:
    try:
        with BPFObject.open(obj) as bpf:
            for other in bpf.programs.values():
                other.autoload = other.name == program
            bpf.load()
    except BPFError as exc:
        return _first_line(str(exc))
    return "ok"


def load_with_libbpf(obj: Path, program: str, harness: Path) -> str:
    try:
        result = libbpf_oracle.run_libbpf(
            obj, load_only=[program], harness=harness, timeout=300
        )
    except (libbpf_oracle.OracleError, subprocess.TimeoutExpired) as exc:
        return _first_line(str(exc))
    if result.load_ok:
        return "ok"
    lines = [line for line in result.stderr.splitlines() if "libbpf:" in line]
    return f"errno {result.errno}: " + (lines[-1].strip() if lines else "refused")


def programs_of(obj: Path) -> list[tuple[str, str]]:
    with BPFObject.open(obj) as bpf:
        return [(p.name, p.section) for p in bpf.programs.values()]


def compare(
    name: str,
    corpus: Corpus,
    tree: Path,
    headers: list[Path],
    fallbacks: list[Path],
    oracles: list[Oracle],
    every: bool = False,
) -> Report:
    """Compile and load each source of ``corpus`` (``every`` one: see sources())
    with skelgen and with each of ``oracles``; ``fallbacks`` are searched after the
    corpus's own include directories (this kernel's vmlinux.h)."""
    report = Report(name, {oracle.name: oracle.version for oracle in oracles})
    out_dir = BUILD / "objects" / name
    includes = [*headers, *(tree / i for i in corpus.includes), *fallbacks]
    for source in sources(corpus, tree, every):
        report.sources += 1
        try:
            obj = libbpf_oracle.compile_bpf(source, out_dir, includes, corpus.flags)
        except libbpf_oracle.OracleError:
            report.compile_failures.append(source.name)
            continue
        report.compiled += 1
        try:
            listed = programs_of(obj)
        except BPFError as exc:  # the object itself is refused: one outcome for it
            libbpf = {o.name: load_with_libbpf(obj, "", o.harness) for o in oracles}
            report.outcomes.append(
                Outcome(obj.name, "*", "*", _first_line(str(exc)), libbpf)
            )
            continue
        # An object of maps only (cilium's arena.c) is loaded whole: "*" names no
        # program, so both loaders create its maps and load nothing else.
        for program, section in listed or [("*", "*")]:
            report.outcomes.append(
                Outcome(
                    obj.name,
                    program,
                    section,
                    load_with_skelgen(obj, program),
                    {
                        o.name: load_with_libbpf(obj, program, o.harness)
                        for o in oracles
                    },
                )
            )
    return report


# -- the command ------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--corpus", action="append", choices=sorted(CORPORA), help="(repeatable)"
    )
    parser.add_argument(
        "--mirrors",
        type=Path,
        default=DEFAULT_MIRRORS,
        help="git mirrors as OWNER+NAME/repo (default: $SKELGEN_MIRRORS or %(default)s)",
    )
    parser.add_argument(
        "--tree",
        action="append",
        default=[],
        metavar="CORPUS=DIR",
        help="take a corpus from a checkout instead of a mirror (repeatable)",
    )
    parser.add_argument(
        "--every-source",
        action="store_true",
        help="compare every source, not only those a corpus selects (selftests:"
        " struct_ops and freplace ones); for trees of hand-picked files",
    )
    parser.add_argument(
        "--libbpf",
        action="append",
        choices=ORACLES,
        help="the harness's libbpf: the system's (default) or the newest of the"
        " libbpf mirror, built here; repeat to compare with both",
    )
    parser.add_argument("--json", type=Path, help="also write every outcome there")
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        parser.error("needs root: programs are loaded into the kernel")
    trees = dict(item.split("=", 1) for item in args.tree)
    unknown = sorted(set(trees) - set(CORPORA))
    if unknown:
        parser.error(f"--tree: no corpus named {unknown[0]!r}")

    libbpf = libbpf_tree(args.mirrors)
    try:
        oracles = [
            make_oracle(name, libbpf, args.mirrors)
            for name in dict.fromkeys(args.libbpf or ["system"])
        ]
    except libbpf_oracle.OracleError as exc:
        parser.error(str(exc))
    for oracle in oracles:
        print(f"libbpf {oracle.version} ({oracle.name}): {oracle.harness}")
    libbpf_include = None if libbpf is None else libbpf_headers(libbpf)
    vmlinux = libbpf_oracle.generate_vmlinux_h(BUILD / "vmlinux").parent
    reports = []
    for name in args.corpus or sorted(CORPORA):
        corpus = CORPORA[name]
        tree = (
            Path(trees[name]).expanduser()
            if name in trees
            else extract(
                corpus.repo, corpus.paths, args.mirrors, BUILD / "trees" / name
            )
        )
        if tree is None:
            print(
                f"{name}: skipped: no mirror of {corpus.repo} in {args.mirrors}"
                f" (or give --tree {name}=DIR)"
            )
            continue
        headers = [] if libbpf_include is None else [libbpf_include]
        headers += system_includes()  # asm/ headers of <linux/bpf.h>
        report = compare(
            name, corpus, tree, headers, [vmlinux], oracles, args.every_source
        )
        reports.append(report)
        print(report.summary(), flush=True)
        for outcome in report.outcomes:
            if not outcome.agree:
                print(f"  {outcome.object} {outcome.program} ({outcome.section}):")
                print(f"    skelgen: {outcome.skelgen}")
                for name, result in outcome.libbpf.items():
                    print(f"    libbpf {report.oracles[name]}: {result}")
        if report.compile_failures:
            print(f"  not compiled: {', '.join(report.compile_failures)}")
    if args.json is not None:
        args.json.write_text(json.dumps([asdict(r) for r in reports], indent=1) + "\n")
    return 0 if all(o.agree for r in reports for o in r.outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
