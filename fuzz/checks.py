"""What one object must survive, in a worker process: the ``skelgen`` command, an
import of its output, ``BPFObject.open`` and (for a share) ``load()``+``destroy()``.

Each broken promise is a :class:`Finding`:

* ``exception`` — something other than a :class:`BPFError` escaped the library, or
  an exception escaped the command's ``main()``;
* ``multiline-cli`` — the command failed without exactly one ``skelgen: ...`` line;
* ``cli-exit`` — the command returned neither 0 nor 1;
* ``import-fail`` — the generated module does not import;
* ``unsafe`` — the generated module holds or does something a generated module
  never does (:mod:`.safety`);
* ``fd-leak`` — ``load()`` then ``destroy()`` left file descriptors open;
* ``memory`` — the object made the process grow by more than :data:`MEMORY_SLACK`;
* ``hang`` and ``crash`` are found by the pool (:mod:`.pool`).
"""

from __future__ import annotations

import contextlib
import importlib
import io
import os
import pkgutil
import resource
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType, TracebackType
from typing import Any

import black
import skelgen_runtime
from black.parsing import InvalidInput
from skelgen_runtime import BPFError, BPFObject, MapType

from skelgen import cli

from .safety import AuditWatch, unexpected_statements

ROOT = Path(__file__).resolve().parents[1]
HARNESS = (str(ROOT / "fuzz") + "/",)
# Everything a generated module may import is imported now: importing a module
# opens and compiles files, which the audit of a module's execution forbids.
for _module in pkgutil.walk_packages(skelgen_runtime.__path__, "skelgen_runtime."):
    importlib.import_module(_module.name)
_OWN_CODE = tuple(str(ROOT / d) + "/" for d in ("runtime", "skelgen", "tests"))
MEMORY_SLACK = 256 << 20  # growth of the peak RSS that counts as a memory bomb
# load() is skipped for objects whose maps would make the kernel allocate more
MAX_KERNEL_BYTES = 64 << 20
_PERCPU = {MapType.PERCPU_ARRAY, MapType.PERCPU_HASH, MapType.LRU_PERCPU_HASH}
_BY_PAGES = {MapType.RINGBUF, MapType.USER_RINGBUF}


@dataclass(frozen=True)
class Finding:
    kind: str  # exception, multiline-cli, import-fail, unsafe, fd-leak, hang...
    stage: str  # cli, import, skeleton-open, open, load, destroy
    where: str  # exception type and code location, or what was wrong
    detail: str  # message or excerpt, for the report

    @property
    def signature(self) -> str:
        """What makes two findings the same bug."""
        return f"{self.kind} in {self.stage}: {self.where}"


def location(tb: TracebackType | None, code: tuple[str, ...] = _OWN_CODE) -> str:
    """``path:function`` of the innermost frame in ``code`` (by default skelgen's
    own, not the harness's), or of the innermost frame when none is."""
    frames = traceback.extract_tb(tb)
    ours = [f for f in frames if f.filename.startswith(code)] or frames
    if not ours:
        return "?"
    frame = ours[-1]
    path = Path(frame.filename)
    with contextlib.suppress(ValueError):
        path = path.relative_to(ROOT)
    return f"{path}:{frame.name}"


def exception_finding(stage: str, exc: BaseException) -> Finding:
    text = " ".join(str(exc).split())[:300]
    where = f"{type(exc).__name__} at {location(exc.__traceback__)}"
    return Finding("exception", stage, where, text)


def _syntax_only(source: str, *, mode: Any = None, lines: Any = ()) -> str:
    """Stands in for black on most mutants: black only reformats, and takes 90% of
    the generator's time; a syntax error still fails the way black would."""
    try:
        compile(source, "<generated>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as exc:
        raise InvalidInput(str(exc)) from None
    return source


@contextlib.contextmanager
def _black(real: bool) -> Iterator[None]:
    original = black.format_str
    if not real:
        black.format_str = _syntax_only  # type: ignore[assignment]
    try:
        yield
    finally:
        black.format_str = original


def kernel_bytes(obj: BPFObject) -> int:
    """Roughly what creating the object's maps makes the kernel allocate."""
    total = 0
    for spec in obj.spec.maps.values():
        if spec.type in _BY_PAGES:
            total += spec.max_entries
            continue
        entry = spec.key_size + spec.value_size + 64
        cpus = (os.cpu_count() or 1) if spec.type in _PERCPU else 1
        total += entry * spec.max_entries * cpus
    return total


def _fd_count() -> int:
    return len(os.listdir("/proc/self/fd"))


def _peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class Checker:
    """Runs the checks in one worker; ``work`` is a private scratch directory,
    ``pin_root`` a private bpffs directory."""

    def __init__(self, work: Path, pin_root: str) -> None:
        self.work = work
        self.pin_root = pin_root
        self.audit = AuditWatch()
        self.stage: Callable[[str], None] = lambda name: None
        self.outcomes: list[str] = []  # how far the last object went

    def check(self, data: bytes, *, real_black: bool, load: bool) -> list[Finding]:
        findings: list[Finding] = []
        self.outcomes = []
        rss = _peak_rss()
        path = self.work / "m.bpf.o"
        path.write_bytes(data)
        self._generate(path, real_black, findings)
        self._open(path, load, findings)
        grown = _peak_rss() - rss
        if grown > MEMORY_SLACK:
            findings.append(
                Finding("memory", "any", f"peak RSS grew by {grown >> 20} MiB", "")
            )
        return findings

    # -- the command and its output -------------------------------------------------

    def _generate(self, path: Path, real_black: bool, findings: list[Finding]) -> None:
        self.stage("cli")
        out = self.work / "m_skel.py"
        with contextlib.suppress(FileNotFoundError):
            out.unlink()
        stderr = io.StringIO()
        # compressing the embedded object takes longer than generating the rest
        arguments = [str(path), "-o", str(out)] + ([] if real_black else ["--no-embed"])
        try:
            with contextlib.redirect_stderr(stderr), _black(real_black):
                status = cli.main(arguments)
        except Exception as exc:
            findings.append(exception_finding("cli", exc))
            return
        message = stderr.getvalue().replace(str(path), "<object>")
        self.outcomes.append(f"skelgen exit {status}")
        if status == 1:
            lines = message.split("\n")
            if len(lines) != 2 or lines[1] or not lines[0].startswith("skelgen: "):
                where = f"{len(lines) - 1} lines: {message[:60]!r}"
                findings.append(Finding("multiline-cli", "cli", where, message[:300]))
            return
        if status != 0:
            findings.append(Finding("cli-exit", "cli", f"status {status}", message))
            return
        self._import(out.read_text(encoding="utf-8"), real_black, findings)

    def _import(self, source: str, embedded: bool, findings: list[Finding]) -> None:
        self.stage("import")
        try:
            problems = unexpected_statements(source)
        except SyntaxError as exc:
            problems = [f"syntax error: {exc}"]
        if problems:
            findings.append(
                Finding("unsafe", "import", problems[0], "; ".join(problems))
            )
            return
        module = ModuleType("fuzz_skel")
        try:
            code = compile(source, "<generated>", "exec")
            events = self.audit.run(code, module.__dict__)
        except Exception as exc:
            finding = exception_finding("import", exc)
            findings.append(
                Finding("import-fail", "import", finding.where, finding.detail)
            )
            return
        if events:
            findings.append(Finding("unsafe", "import", events[0], ", ".join(events)))
            return
        self.outcomes.append("module imported")
        skeletons: list[Any] = [
            v
            for v in vars(module).values()
            if isinstance(v, type) and getattr(v, "_object_data_", None) is not None
        ]
        # the embedded, debug-stripped object: as the mutant for DWARF-less seeds,
        # so checked with the real black only
        for skeleton in skeletons if embedded else []:
            self.stage("skeleton-open")
            try:
                skeleton.open(pin_root=self.pin_root).destroy()
            except BPFError:
                pass
            except Exception as exc:
                findings.append(exception_finding("skeleton-open", exc))

    # -- the runtime ----------------------------------------------------------------

    def _open(self, path: Path, load: bool, findings: list[Finding]) -> None:
        self.stage("open")
        try:
            obj = BPFObject.open(path, pin_root=self.pin_root)
        except BPFError:
            self.outcomes.append("open refused")
            return
        except Exception as exc:
            findings.append(exception_finding("open", exc))
            return
        self.outcomes.append("opened")
        if not load:
            obj.destroy()
            return
        if kernel_bytes(obj) > MAX_KERNEL_BYTES:
            self.outcomes.append("load skipped (maps too large)")
            obj.destroy()
            return
        fds = _fd_count()
        self.stage("load")
        try:
            obj.load()
            self.outcomes.append("loaded")
        except BPFError:
            self.outcomes.append("load refused")
        except Exception as exc:
            findings.append(exception_finding("load", exc))
        self.stage("destroy")
        try:
            obj.destroy()
        except Exception as exc:
            findings.append(exception_finding("destroy", exc))
        leaked = _fd_count() - fds
        if leaked:
            findings.append(
                Finding("fd-leak", "load", f"{leaked} fds left after destroy()", "")
            )
