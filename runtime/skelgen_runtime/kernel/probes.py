"""The perf events that tracing programs sit on: tracepoints, kprobes and uprobes.

Probes are opened the way libbpf does: through the ``kprobe``/``uprobe`` PMU when the
kernel has one, else by adding a named event to tracefs's legacy ``kprobe_events`` or
``uprobe_events`` and opening it as a tracepoint.  A legacy event must be removed again
once its perf event is closed; :class:`ProbeEvent` carries that step.

Legacy events outlive the process that added them, so (:class:`LegacyProbe`): each is
named ``skelgen_<pid>_...`` (as libbpf names its ``libbpf_<pid>_...``), removed on
detach and at interpreter exit (its link detached first: the kernel refuses to remove
an event in use), and each legacy attach first removes the events of skelgen
processes that no longer run (killed before they could clean up).  An event still in
use is never removed: the kernel answers EBUSY.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import functools
import itertools
import os
import threading
import weakref
from collections.abc import Callable

from ..lean.records import dataclass
from ..sys import perf
from ..sys.syscall import perf_event_open
from ..uapi.perf import PERF_FLAG_FD_CLOEXEC, PERF_TYPE_TRACEPOINT

TRACEFS_ROOTS = ("/sys/kernel/tracing", "/sys/kernel/debug/tracing")
# The kernel's MAX_EVENT_NAME_LEN is 64, terminating NUL included.
_EVENT_NAME_MAX = 63
_legacy_counter = itertools.count()


class ProbeUnsupportedError(OSError):
    """The kernel has no way to create this kind of probe (a missing CONFIG_*)."""


@dataclass(frozen=True)
class ProbeEvent:
    """An open perf event, and what removes its tracefs event after it is closed."""

    perf_fd: int
    remove: Callable[[], None] | None = None


def tracefs_root() -> str:
    for root in TRACEFS_ROOTS:
        if os.path.isdir(os.path.join(root, "events")):
            return root
    raise OSError(
        errno.ENOENT,
        "tracefs is not mounted (mount -t tracefs tracefs /sys/kernel/tracing)",
    )


def tracepoint_id(category: str, name: str) -> int:
    with open(os.path.join(tracefs_root(), "events", category, name, "id")) as f:
        return int(f.read())


def _open_tracepoint_id(event_id: int, pid: int = -1) -> int:
    attr = perf.PerfEventAttr(type=PERF_TYPE_TRACEPOINT, config=event_id)
    return _open_probe_attr(attr, pid)


def _open_probe_attr(attr: perf.PerfEventAttr, pid: int) -> int:
    # As libbpf: every process on one CPU (the hook fires wherever it runs), or one
    # process on any CPU.
    if pid < 0:
        return perf_event_open(attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC)
    return perf_event_open(attr, pid, -1, -1, PERF_FLAG_FD_CLOEXEC)


def open_tracepoint(category: str, name: str) -> int:
    """A perf event on ``events/<category>/<name>`` for every process."""
    return _open_tracepoint_id(tracepoint_id(category, name))


def legacy_event_name(target: str, offset: int, pid: int, serial: int) -> str:
    """A tracefs event name unique to this process and call, as libbpf builds them."""
    raw = f"{LEGACY_PREFIX}{pid}_{serial}_{target}_{offset:#x}"
    return "".join(c if c.isalnum() else "_" for c in raw)[:_EVENT_NAME_MAX]


LEGACY_PREFIX = "skelgen_"
# A line of kprobe_events / uprobe_events: "p:uprobes/skelgen_123_0_x_0x10 /bin/x:0x10"
# ("r16:" for a kretprobe with maxactive).
# (compiled when first used: re is imported by legacy probes only)
_LEGACY_LINE = rf"^[pr]\d*:(?P<group>[^/\s]+)/(?P<name>{LEGACY_PREFIX}(?P<pid>\d+)_\S*)"


class LegacyProbe:
    """A tracefs event this process added; calling it removes the event (once).

    Until then it is listed for interpreter exit, where the link that owns it
    (:meth:`owned_by`) is detached first, then the event removed."""

    _live: dict[int, LegacyProbe] = {}  # id → probe, not removed yet
    _lock = threading.Lock()
    _exit_hooked = False

    def __init__(self, events_file: str, group: str, name: str) -> None:
        self.events_file = events_file
        self.group = group
        self.name = name
        self._owner: weakref.WeakMethod[Callable[[], None]] | None = None
        self._removed = False

    def add(self, location: str, retprobe: bool) -> None:
        """Write the event to tracefs, first sweeping dead processes' events."""
        remove_stale_events(self.events_file)
        with self._lock:
            if not LegacyProbe._exit_hooked:
                import atexit

                atexit.register(LegacyProbe.remove_all)
                LegacyProbe._exit_hooked = True
            self._live[id(self)] = self
        try:
            _append(
                self.events_file,
                f"{'r' if retprobe else 'p'}:{self.group}/{self.name} {location}",
            )
        except BaseException:
            self._forget()
            raise

    def owned_by(self, detach: Callable[[], None]) -> None:
        """``detach`` (a bound method of the link holding the event's perf fd) runs
        at exit, before the event is removed."""
        self._owner = weakref.WeakMethod(detach)

    def __call__(self) -> None:
        if self._forget():
            _append(self.events_file, f"-:{self.group}/{self.name}")

    def _forget(self) -> bool:
        """Unlist; False when it was done already."""
        with self._lock:
            if self._removed:
                return False
            self._removed = True
            self._live.pop(id(self), None)
            return True

    @classmethod
    def remove_all(cls) -> None:
        """At exit: detach the owners and remove every event still there."""
        with cls._lock:
            live = list(cls._live.values())
        for probe in live:
            with contextlib.suppress(Exception):
                detach = probe._owner() if probe._owner is not None else None
                if detach is not None:
                    detach()  # closes the fds, then removes the event
                probe()


def remove_stale_events(events_file: str) -> int:
    """Remove the events of ``events_file`` that skelgen processes which no longer
    run left behind; returns how many went.  One in use (a pinned link's) stays."""
    try:
        with open(events_file) as f:
            listing = f.read()
    except OSError:
        return 0
    import re

    removed = 0
    for match in re.finditer(_LEGACY_LINE, listing, re.MULTILINE):
        if _running(int(match["pid"])):
            continue
        with contextlib.suppress(OSError):  # in use, or removed by another sweep
            _append(events_file, f"-:{match['group']}/{match['name']}")
            removed += 1
    return removed


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: it runs, as another user
        pass
    return True


def _open_pmu_probe(
    pmu: str, retprobe: bool, name: bytes, offset: int, pid: int, ref_ctr_offset: int
) -> int | None:
    """Open through the PMU; None when the kernel has no such PMU."""
    pmu_type = perf.pmu_type(pmu)
    if pmu_type is None:
        return None
    config = 1 << perf.pmu_format_bit(pmu, "retprobe") if retprobe else 0
    if ref_ctr_offset:
        config |= ref_ctr_offset << _ref_ctr_shift(pmu)
    raw = ctypes.create_string_buffer(name)
    attr = perf.PerfEventAttr(
        type=pmu_type,
        config=config,
        config1=ctypes.addressof(raw),  # kprobe_func / uprobe_path
        config2=offset,  # offset in the function / in the file
    )
    return _open_probe_attr(attr, pid)


def _ref_ctr_shift(pmu: str) -> int:
    """Where a uprobe's reference counter offset goes in ``config`` (bit 32)."""
    try:
        return perf.pmu_format_bit(pmu, "ref_ctr_offset")
    except FileNotFoundError:
        raise ProbeUnsupportedError(
            errno.EOPNOTSUPP,
            "this kernel cannot maintain USDT semaphores (no ref_ctr_offset in the "
            f"{pmu} PMU's format: kernel 4.20 or later needed)",
        ) from None


def _open_probe(
    pmu: str,
    target: bytes,
    offset: int,
    retprobe: bool,
    pid: int,
    legacy: bool,
    label: str,
    location: str,
    ref_ctr_offset: int = 0,
) -> ProbeEvent:
    """Through ``pmu`` (``kprobe``/``uprobe``) if the kernel has it and ``legacy`` is
    not asked for; else add tracefs event ``label`` probing ``location`` to
    ``<pmu>_events`` and open it as a tracepoint."""
    if not legacy:
        fd = _open_pmu_probe(pmu, retprobe, target, offset, pid, ref_ctr_offset)
        if fd is not None:
            return ProbeEvent(fd)
    path = os.path.join(tracefs_root(), f"{pmu}_events")
    if not os.path.exists(path):
        raise ProbeUnsupportedError(
            errno.EOPNOTSUPP,
            f"this kernel has no {pmu} support (built without CONFIG_{pmu.upper()}_EVENTS: "
            f"no {pmu} PMU and no tracefs {pmu}_events)",
        )
    # The groups libbpf uses: kprobes/kretprobes, uprobes/uretprobes.
    group = f"{pmu[0]}ret{pmu[1:]}s" if retprobe else f"{pmu}s"
    name = legacy_event_name(label, offset, os.getpid(), next(_legacy_counter))
    remove = LegacyProbe(path, group, name)
    remove.add(location, retprobe)
    try:
        return ProbeEvent(_open_tracepoint_id(tracepoint_id(group, name), pid), remove)
    except BaseException:
        remove()
        raise


def _append(path: str, line: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CLOEXEC)
    try:
        os.write(fd, line.encode() + b"\n")
    finally:
        os.close(fd)


def open_kprobe(
    func: str, offset: int = 0, retprobe: bool = False, legacy: bool = False
) -> ProbeEvent:
    """A kprobe (or kretprobe) on kernel function ``func`` plus ``offset``."""
    return _open_probe(
        "kprobe",
        func.encode(),
        offset,
        retprobe,
        -1,
        legacy,
        func,
        f"{func}+{offset:#x}",
    )


def open_uprobe(
    path: str,
    offset: int,
    retprobe: bool = False,
    pid: int = -1,
    legacy: bool = False,
    ref_ctr_offset: int = 0,
) -> ProbeEvent:
    """A uprobe (or uretprobe) at file ``offset`` of ``path``; ``pid`` -1 is every
    process.  ``ref_ctr_offset``: the file offset of a USDT semaphore, which the
    kernel raises while the probe exists."""
    location = f"{path}:{offset:#x}"
    if ref_ctr_offset:
        location += f"({ref_ctr_offset:#x})"
    return _open_probe(
        "uprobe",
        os.fsencode(path),
        offset,
        retprobe,
        pid,
        legacy,
        os.path.basename(path),
        location,
        ref_ctr_offset,
    )


def kernel_function_names(listing: str, kallsyms: bool) -> list[str]:
    """Function names of tracefs ``available_filter_functions`` (``name [module]``) or,
    with ``kallsyms``, of ``/proc/kallsyms`` (``address type name [module]``, text only).
    """
    names = []
    for line in listing.splitlines():
        fields = line.split()
        if kallsyms:
            if len(fields) >= 3 and fields[1] in ("t", "T"):
                names.append(fields[2])
        elif fields:
            names.append(fields[0])
    return names


def kernel_functions(pattern: str) -> list[str]:
    """Kernel functions matching the glob ``pattern``, found where libbpf looks for
    kprobe.multi targets: tracefs's probe-able functions, else /proc/kallsyms."""
    if not any(c in pattern for c in "*?["):
        return [pattern]
    try:
        with open(os.path.join(tracefs_root(), "available_filter_functions")) as f:
            names = kernel_function_names(f.read(), kallsyms=False)
    except OSError:
        with open("/proc/kallsyms") as f:
            names = kernel_function_names(f.read(), kallsyms=True)
    import fnmatch

    return sorted({name for name in names if fnmatch.fnmatchcase(name, pattern)})


# The prefix of syscall entry points in the kernel, per architecture (libbpf's
# arch_specific_syscall_pfx()).
_SYSCALL_PREFIXES = {
    "x86_64": "x64",
    "i386": "ia32",
    "i686": "ia32",
    "aarch64": "arm64",
    "s390x": "s390",
    "ppc64le": "powerpc",
    "ppc64": "powerpc",
    "riscv64": "riscv",
    "loongarch64": "loongarch",
}


@functools.lru_cache(maxsize=1)
def _has_syscall_wrappers(prefix: str) -> bool:
    wanted = f" __{prefix}_sys_bpf"
    try:
        with open("/proc/kallsyms") as f:
            return any(line.rstrip("\n").endswith(wanted) for line in f)
    except OSError:
        return True  # every kernel since 4.17 on the main architectures has them


def syscall_function(name: str) -> str:
    """The kernel function a ``ksyscall/<name>`` probe goes on (``__x64_sys_<name>``)."""
    prefix = _SYSCALL_PREFIXES.get(os.uname().machine)
    if prefix is not None and _has_syscall_wrappers(prefix):
        return f"__{prefix}_sys_{name}"
    return f"sys_{name}"
