"""Results of kernel runs: JUnit files read back, counted, and summed up per feature as
a markdown table (kernel by feature: ok / clear error / fails) for ``docs/kernels.md``.

A failing test is a *clear error* when what it raised is one of the runtime's own
errors (``skelgen_runtime.BPFError`` and its subclasses: one line saying what the
kernel refused); anything else — a wrong value, a traceback of another kind, a
missing cleanup — *fails*.
"""

from __future__ import annotations

import importlib
import json
import re
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from skelgen_runtime import BPFError

BEGIN = "<!-- kernel-matrix:begin (written by scripts/kernels/matrix) -->"
END = "<!-- kernel-matrix:end -->"

# (feature, pattern on "module::test"); the first match names a test's feature.
FEATURES: tuple[tuple[str, str], ...] = (
    ("maps: hash, array, per-CPU, LPM, queue, bloom, batch", r"^test_maps::"),
    ("maps of fds: map-in-map, prog array, pinning, stack trace", r"^test_maps_fds::"),
    ("ring buffer, user ring buffer", r"^test_ringbuf::"),
    ("perf buffer", r"^test_perfbuf::"),
    (
        "skeleton: global data, load errors, privileges",
        r"^test_skeleton::(?!.*iterator)",
    ),
    ("tracepoint, raw_tp", r"^test_attach_tracing::test_(auto_attach|manual|missing)"),
    ("kprobe, kprobe.multi", r"::test_kprobe"),
    (
        "fentry, fexit, fmod_ret, lsm",
        r"::test_(btf_kinds|attach_target|kernel_btf_obj)",
    ),
    ("perf_event programs", r"::test_perf_event"),
    ("iterators", r"iterator"),
    ("test_run (XDP, syscall)", r"::test_test_run"),
    ("uprobe, uretprobe, uprobe.multi", r"^test_attach_uprobe::"),
    ("module BTF: fentry, fexit, kprobe on a module function", r"::test_module_"),
    ("XDP", r"^test_attach_net::test_xdp"),
    ("tc, tcx, socket filter", r"^test_attach_net::test_(tcx|legacy_tc|socket_filter)"),
    (
        "sk_lookup, netfilter, sk_msg, netkit",
        r"^test_attach_net::test_(sk_|netkit|netfilter)",
    ),
    ("cgroup programs", r"cgroup"),
    ("links: pin, update, rollback", r"^test_attach_links::"),
    (
        "CO-RE relocations, kernel BTF",
        r"^test_core::(?!.*(extern|kconfig|ksyms|probes))",
    ),
    ("externs: kconfig, ksyms, kfuncs; feature probes", r"^test_core::"),
    ("libbpf-tools ports (execsnoop, opensnoop, runqlat, tcpstates)", r"^test_tools::"),
)
OK, SKIPPED, CLEAR, FAILS = "ok", "skipped", "clear error", "fails"


@dataclass(frozen=True)
class TestResult:
    test: str  # module::name[params]
    outcome: str  # passed, skipped, failed, error
    message: str = ""  # first line of the failure or skip message

    @property
    def verdict(self) -> str:
        if self.outcome == "passed":
            return OK
        if self.outcome == "skipped":
            return SKIPPED
        return CLEAR if is_runtime_error(self.message) else FAILS


@dataclass
class KernelRun:
    """One run of tests in a VM, as ``run.json`` and ``junit.xml`` keep it."""

    name: str
    version: str  # Debian package version
    release: str  # uname -r
    status: int | None  # exit status of pytest; None: stopped at the timeout
    seconds: float
    selection: str  # what ran: test paths and -k
    full: bool  # the whole of tests/kernel
    date: str
    results: list[TestResult] = field(default_factory=list)

    def counts(self) -> Counter[str]:
        return Counter(r.outcome for r in self.results)


def is_runtime_error(message: str) -> bool:
    """Whether ``message`` ("pkg.mod.Class: text") names a BPFError subclass."""
    match = re.match(r"([A-Za-z_][\w.]*)\.(\w+): ", message)
    if match is None:
        return False
    try:
        cls = getattr(importlib.import_module(match.group(1)), match.group(2), None)
    except ImportError:
        return False
    return isinstance(cls, type) and issubclass(cls, BPFError)


_WORSE = {"passed": 0, "skipped": 1, "error": 2, "failed": 2}


def read_junit(path: Path) -> list[TestResult]:
    """One result per test; a test reported twice (a teardown error after its call)
    keeps its worse outcome."""
    found: dict[str, TestResult] = {}
    for case in ET.parse(path).iter("testcase"):
        module = case.get("classname", "").rsplit(".", 1)[-1]
        test = f"{module}::{case.get('name', '')}"
        outcome, message = "passed", ""
        for tag in ("failure", "error", "skipped"):
            node = case.find(tag)
            if node is not None:
                outcome = {"failure": "failed"}.get(tag, tag)
                text = (node.get("message") or node.text or "").strip()
                message = _unwrap(text.splitlines()[0] if text else "")
                break
        result = TestResult(test, outcome, message)
        old = found.get(test)
        if old is None or _WORSE[outcome] > _WORSE[old.outcome]:
            found[test] = result
    return list(found.values())


def _unwrap(line: str) -> str:
    """``failed on setup with "X: text"`` (a fixture's error) → ``X: text`` (the
    closing quote is on a later line when the message has several)."""
    match = re.fullmatch(r'failed on (?:setup|teardown) with "(.*?)"?', line)
    return match.group(1) if match else line


def save_run(run: KernelRun, directory: Path) -> None:
    fields = {k: v for k, v in asdict(run).items() if k != "results"}
    (directory / "run.json").write_text(json.dumps(fields, indent=1) + "\n")


def load_run(directory: Path) -> KernelRun | None:
    meta = directory / "run.json"
    if not meta.is_file():
        return None
    run = KernelRun(**json.loads(meta.read_text()))
    junit = directory / "junit.xml"
    if junit.is_file():
        run.results = read_junit(junit)
    return run


def feature_of(test: str) -> str:
    for feature, pattern in FEATURES:
        if re.search(pattern, test):
            return feature
    return test.split("::")[0]


def _cell(results: Sequence[TestResult]) -> str:
    if not results:
        return "-"
    verdicts = Counter(r.verdict for r in results)
    passed = f"{verdicts[OK]}/{len(results)}"
    for verdict in (FAILS, CLEAR, SKIPPED):
        if verdicts[verdict]:
            return f"{verdict} {passed}"
    return f"{OK} {passed}"


def _fmt_minutes(seconds: float) -> str:
    return f"{int(seconds // 60)}:{int(seconds % 60):02d}"


def summary_table(runs: Sequence[KernelRun]) -> str:
    lines = [
        "| kernel | package | passed | failed | errors | skipped | wall time | status |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        c = run.counts()
        status = "timed out" if run.status is None else f"exit {run.status}"
        lines.append(
            f"| {run.name} ({run.release}) | {run.version} | {c['passed']} | "
            f"{c['failed']} | {c['error']} | {c['skipped']} | "
            f"{_fmt_minutes(run.seconds)} | {status} |"
        )
    return "\n".join(lines)


def feature_table(runs: Sequence[KernelRun]) -> str:
    features = [name for name, _ in FEATURES]
    extra = {feature_of(r.test) for run in runs for r in run.results} - set(features)
    lines = [
        "| feature | " + " | ".join(run.name for run in runs) + " |",
        "|---" * (len(runs) + 1) + "|",
    ]
    for feature in [*features, *sorted(extra)]:
        cells = [
            _cell([r for r in run.results if feature_of(r.test) == feature])
            for run in runs
        ]
        lines.append(f"| {feature} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _cause(message: str) -> str:
    """A failure message without what changes from test to test (fds, addresses)."""
    message = re.sub(r"0x[0-9a-f]{6,}", "0x…", message)
    return message if len(message) <= 160 else message[:157] + "..."


def failure_causes(run: KernelRun) -> list[str]:
    """Markdown list items: each distinct failure message and the tests it ended."""
    by_cause: dict[str, list[str]] = {}
    for r in run.results:
        if r.outcome in ("failed", "error"):
            by_cause.setdefault(f"{r.verdict}: `{_cause(r.message)}`", []).append(
                r.test
            )
    items = sorted(by_cause.items(), key=lambda item: (-len(item[1]), item[0]))
    return [f"- {cause} — {', '.join(tests)}" for cause, tests in items]


def render(runs: Sequence[KernelRun]) -> str:
    parts = [BEGIN, "", summary_table(runs), "", feature_table(runs), ""]
    for run in runs:
        causes = failure_causes(run)
        parts.append(f"#### {run.name} ({run.release}, {run.version}, {run.date})")
        parts.append("")
        parts.extend(causes or ["- no failures"])
        skipped = Counter(r.message for r in run.results if r.outcome == "skipped")
        for message, n in sorted(skipped.items()):
            parts.append(f"- skipped ({n}): {_cause(message)}")
        parts.append("")
    parts.append(END)
    return "\n".join(parts)


def update_docs(path: Path, runs: Iterable[KernelRun]) -> None:
    """Replace the generated part of ``path`` (between BEGIN and END)."""
    text = path.read_text()
    start, end = text.index(BEGIN), text.index(END) + len(END)
    path.write_text(text[:start] + render(list(runs)) + text[end:])
