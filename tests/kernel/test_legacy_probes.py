"""Kernel leftovers: tracefs events of legacy uprobes go on detach, at interpreter
exit, and — for a process killed before it could clean up — at the next legacy attach
of any skelgen process; load/attach/destroy cycles leave no fd and no memory behind."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from attach_support import loaded, read_global
from conftest import open_fds
from ptrace.syscall.names import SYSCALL_NAMES
from skelgen_runtime.kernel.probes import tracefs_root

pytestmark = pytest.mark.usefixtures("root_only")
TARGET_SOURCE = Path(__file__).with_name("uprobe_target.c")
FUNCTION = "skelgen_target_add"
KILLS = 10
GETPPID = {name: nr for nr, name in SYSCALL_NAMES.items()}["getppid"]


@pytest.fixture(scope="module")
def target(
    build_c: Callable[..., Path], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    return build_c(TARGET_SOURCE, tmp_path_factory.mktemp("legacy") / "uprobe_target")


@pytest.fixture
def uprobe_object(build_bpf: Callable[[str], Path]) -> Path:
    return build_bpf("attach_uprobe")


def entries_of(pids: set[int]) -> list[str]:
    """The uprobe_events lines named after one of ``pids``."""
    text = Path(tracefs_root(), "uprobe_events").read_text()
    return [
        line
        for line in text.splitlines()
        if (m := re.search(r"/skelgen_(\d+)_", line)) and int(m[1]) in pids
    ]


CHILD = textwrap.dedent("""
    import sys
    from skelgen_runtime import BPFObject

    obj_path, target, function, mode = sys.argv[1:]
    obj = BPFObject.open(obj_path)
    obj.load()
    program = obj.programs["on_add"]
    program.attach_uprobe(target, function, legacy=True)
    print("attached", flush=True)
    if mode == "attach-forever":  # killed somewhere in here
        while True:
            program.attach_uprobe(target, function, legacy=True)
    elif mode == "daemon":  # a consumer thread keeps the object: no __del__ at exit
        import threading, time

        holder = threading.Thread(target=lambda o=obj: time.sleep(3600), daemon=True)
        holder.start()
        del obj, program
    """)


def child(uprobe_object: Path, target: Path, mode: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, str(uprobe_object), str(target), FUNCTION, mode],
        stdout=subprocess.PIPE,
        text=True,
    )


def test_sigkilled_attaches_leave_nothing_after_the_next_start(
    uprobe_object: Path, target: Path
) -> None:
    killed: set[int] = set()
    for index in range(KILLS):
        proc = child(uprobe_object, target, "attach-forever")
        assert proc.stdout is not None
        assert proc.stdout.readline() == "attached\n"
        time.sleep(0.01 * index)  # in the middle of another legacy attach
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        killed.add(proc.pid)
    # Each child's first attach swept the events of those killed before it; the
    # last one's are still there: what SIGKILL leaves.
    assert entries_of({proc.pid})
    assert entries_of(killed - {proc.pid}) == []
    # The next start: one legacy attach of another skelgen process sweeps them.
    proc = child(uprobe_object, target, "exit")
    assert proc.stdout is not None and proc.stdout.readline() == "attached\n"
    assert proc.wait(timeout=30) == 0
    assert entries_of(killed | {proc.pid}) == []


@pytest.mark.parametrize("mode", ["exit", "daemon"])
def test_interpreter_exit_removes_the_events_still_attached(
    uprobe_object: Path, target: Path, mode: str
) -> None:
    proc = child(uprobe_object, target, mode)
    assert proc.stdout is not None and proc.stdout.readline() == "attached\n"
    assert proc.wait(timeout=30) == 0
    assert entries_of({proc.pid}) == []


def test_events_are_named_after_this_process_and_go_on_detach(
    uprobe_object: Path, target: Path
) -> None:
    with loaded(uprobe_object) as obj:
        link = obj.programs["on_add"].attach_uprobe(str(target), FUNCTION, legacy=True)
        assert len(entries_of({os.getpid()})) == 1
        link.detach()
        assert entries_of({os.getpid()}) == []


def _rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


@pytest.fixture
def ring_module(skeleton_module: Callable[[str], ModuleType]) -> ModuleType:
    return skeleton_module("ringbuf_events")


def test_load_attach_destroy_cycles_keep_fds_and_memory_flat(
    build_bpf: Callable[[str], Path],
    uprobe_object: Path,
    target: Path,
    ring_module: ModuleType,
) -> None:
    trace_object = build_bpf("attach_trace")

    def cycle(index: int) -> None:
        # A perf event's detach takes the kernel ~0.1 s: one cycle in 10 has those.
        slow = index % 10 == 0
        with loaded(
            trace_object,
            without=["btf_sys_enter"] + ([] if slow else ["tp_getppid"]),
            target_tgid=os.getpid(),
            getppid_nr=GETPPID,
        ) as obj:
            obj.attach()
            os.getppid()
            assert read_global(obj, "raw_count") == 1
        skel: Any = ring_module.RingbufEventsBpf.open_and_load()
        skel.bss.emit_count = 10
        skel.progs.produce.test_run()
        assert len(skel.maps.events.drain()) == 10
        skel.destroy()
        if slow:
            with loaded(uprobe_object) as obj:
                obj.programs["on_add_ret"].attach_uprobe(
                    str(target), FUNCTION, retprobe=True, legacy=True
                )

    for index in range(30):  # warm-up: caches, the allocator's arenas
        cycle(index)
    fds, rss = open_fds(), _rss_kib()
    for index in range(300):
        cycle(index)
    assert open_fds() == fds
    growth = _rss_kib() - rss
    assert growth < 2048, f"RSS grew by {growth} KiB over 300 cycles"


@pytest.fixture(autouse=True)
def no_leftovers_of_this_process() -> Iterator[None]:
    yield
    assert entries_of({os.getpid()}) == []
