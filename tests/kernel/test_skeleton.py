"""The first vertical slice against the kernel: generate, open, load, run, read."""

from __future__ import annotations

import ctypes
import errno
import gc
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest
from conftest import open_fds, require
from skelgen_runtime import BPFObject, LoadError, MapError
from skelgen_runtime.cdata.types import FrozenError
from skelgen_runtime.features.programs import has_helper
from skelgen_runtime.uapi.bpf import ProgType

pytestmark = pytest.mark.usefixtures("root_only")


@pytest.fixture
def globals_skel(skeleton_module: Callable[[str], ModuleType]) -> ModuleType:
    return skeleton_module("globals")


def test_initial_values_come_from_every_section(globals_skel: ModuleType) -> None:
    with globals_skel.GlobalsBpf.open() as skel:
        assert skel.rodata.multiplier == 3
        assert skel.rodata.config.port == 80
        assert skel.rodata.config.tag == b"abc"
        assert [(p.a, p.b) for p in skel.rodata.config.limits] == [(1, 2), (3, 4)]
        assert skel.data.seeded == 42
        assert skel.data.greeting == b"hello"
        assert (skel.data.pair_init.a, skel.data.pair_init.b) == (7, -8)
        assert skel.data.strcmp_result == -1
        assert skel.bss.counter == 0
        assert skel.data_custom.custom_value == 7
        assert skel.rodata_custom.custom_ro == 9
        # static globals stay out of the skeleton, as with bpftool
        assert not hasattr(skel.data, "hidden")


def test_program_sees_values_set_before_load_and_python_reads_its_results(
    globals_skel: ModuleType,
) -> None:
    with globals_skel.GlobalsBpf.open() as skel:
        skel.rodata.multiplier = 10
        skel.rodata.config.port = 8080
        skel.rodata.config.limits[1].b = 100
        skel.data.seeded = 50
        skel.data_custom.custom_value = 1
        bss = skel.bss  # a reference taken before load stays valid after it
        skel.load()
        result = skel.progs.run_all.test_run()
        # counter = global_add(scale(seeded), custom_value + custom_ro)
        #         = (50 * 10 + hidden 5) + (1 + 9)
        assert result.retval == 515
        assert bss.counter == 515
        assert (skel.bss.last.a, skel.bss.last.b) == (14, -16)
        assert list(skel.bss.bytes_out) == [0, 11, 22, 33, 44]
        assert skel.bss.port_seen == 8080
        assert skel.bss.tag_seen == b"abc"
        assert skel.bss.limit_sum == 1 + 2 + 3 + 100
        assert skel.data.seeded == 51  # the program's write, read through mmap


BPF_FUNC_LOOP, BPF_FUNC_STRNCMP = 181, 182


def test_a_program_left_out_of_the_load_runs_once_asked_for(
    globals_skel: ModuleType,
) -> None:
    """run_helpers is SEC("?raw_tp"): not loaded unless asked for.  It calls
    bpf_loop() and bpf_strncmp() (5.17); a kernel without them (a probe says)
    still loads the rest of the object, and refuses the program when asked."""
    with globals_skel.GlobalsBpf.open_and_load() as skel:
        assert skel.progs.run_all.loaded and not skel.progs.run_helpers.loaded
    has_helpers = all(
        has_helper(ProgType.RAW_TRACEPOINT, helper)
        for helper in (BPF_FUNC_LOOP, BPF_FUNC_STRNCMP)
    )
    with globals_skel.GlobalsBpf.open() as skel:
        skel.progs.run_helpers.autoload = True
        if not has_helpers:
            # (before 5.13 the callback's address already is: "number of funcs
            # in func_info doesn't match number of subprogs")
            with pytest.raises(LoadError, match="run_helpers") as info:
                skel.load()
            assert info.value.errno == errno.EINVAL
            return
        skel.load()
        skel.progs.run_helpers.test_run()
        assert skel.bss.loop_sum == sum(range(10))  # bpf_loop callback
        assert skel.data.strcmp_result == 0  # string literal in .rodata.str1.1


def test_python_writes_after_load_reach_the_program(globals_skel: ModuleType) -> None:
    with globals_skel.GlobalsBpf.open_and_load() as skel:
        skel.data.seeded = 1000
        skel.data.pair_init.a = 21
        skel.progs.run_all.test_run()
        assert skel.bss.last.a == 42
        assert skel.bss.counter == 1000 * 3 + 5 + 16
        # and the kernel's own copy agrees with the mmap view
        value = skel.maps.data.lookup(0)
        assert value is not None and value.seeded == 1001


def test_rodata_is_frozen_after_load(globals_skel: ModuleType) -> None:
    with globals_skel.GlobalsBpf.open_and_load() as skel:
        with pytest.raises(FrozenError):
            skel.rodata.multiplier = 1
        with pytest.raises(FrozenError):
            skel.rodata.config.port = 1
        with pytest.raises(FrozenError):
            skel.rodata.config.limits[0].a = 1
        assert skel.rodata.multiplier == 3


def test_globals_stay_readable_after_destroy(globals_skel: ModuleType) -> None:
    skel = globals_skel.GlobalsBpf.open_and_load()
    skel.progs.run_all.test_run()
    bss = skel.bss
    skel.destroy()
    assert bss.counter == 42 * 3 + 5 + 16


def test_autoload_false_skips_a_program(globals_skel: ModuleType) -> None:
    with globals_skel.GlobalsBpf.open() as skel:
        skel.progs.run_all.autoload = False
        skel.load()
        assert not skel.progs.run_all.loaded


def test_verifier_rejection_raises_load_error_with_log(
    build_bpf: Callable[[str], Path],
) -> None:
    with BPFObject.open(build_bpf("reject")) as obj, pytest.raises(LoadError) as info:
        obj.load()
    err = info.value
    assert err.program == "bad_deref"
    assert "invalid mem access" in err.log
    assert "invalid mem access" in str(err)  # the log's tail is in the message
    assert err.errno != 0


def test_failed_load_leaks_no_fd(build_bpf: Callable[[str], Path]) -> None:
    before = open_fds()
    for _ in range(5):
        with BPFObject.open(build_bpf("reject")) as obj, pytest.raises(LoadError):
            obj.load()
    assert open_fds() == before


def test_no_fd_or_mapping_leak_across_200_cycles(globals_skel: ModuleType) -> None:
    def mappings() -> int:
        with open("/proc/self/maps") as f:
            return sum(1 for _ in f)

    skel_cls = globals_skel.GlobalsBpf
    for _ in range(3):  # warm caches first
        skel_cls.open_and_load().destroy()
    gc.collect()
    fds, maps = open_fds(), mappings()
    for _ in range(200):
        skel = skel_cls.open_and_load()
        skel.progs.run_all.test_run()
        skel.destroy()
    del skel
    gc.collect()
    assert open_fds() == fds
    assert mappings() <= maps + 4


def test_unknown_names_give_clear_errors(build_bpf: Callable[[str], Path]) -> None:
    with BPFObject.open(build_bpf("globals")) as obj:
        with pytest.raises(MapError, match=r"no map named 'nope'.*the object has"):
            obj.maps["nope"]
        assert "run_all" in obj.programs


def test_plain_runtime_api_matches_the_skeleton(
    build_bpf: Callable[[str], Path],
) -> None:
    """The skeleton is sugar: BPFObject alone does the same job."""
    with BPFObject.open(build_bpf("globals")) as obj:
        obj.datasec(".rodata").write(ctypes.c_int32(4).value.to_bytes(4, "little"))
        obj.load()
        assert obj.programs["run_all"].test_run().retval == 42 * 4 + 5 + 16
        counter = int.from_bytes(obj.datasec(".bss").read()[:4], "little")
        assert counter == 42 * 4 + 5 + 16
        assert obj.maps[".bss"].fd > 0


def test_minimal_example_counts_and_streams_events(
    skeleton_module: Callable[[str], ModuleType],
) -> None:
    minimal = skeleton_module(
        str(Path(__file__).parents[2] / "examples/minimal/minimal.bpf.c")
    )
    events: list[int] = []
    pid = os.getpid()  # every later getpid() is counted
    with minimal.MinimalBpf.open() as skel:
        skel.rodata.target_pid = pid
        skel.load()
        skel.attach()
        assert skel.links.handle_getpid is not None
        for _ in range(7):
            os.getpid()
        skel.maps.events.poll(lambda e: events.append(e.pid), timeout=1.0)
        assert skel.bss.counter == 7
        assert events == [pid] * 7
        skel.detach()
        assert skel.links.handle_getpid is None
        os.getpid()
        assert skel.bss.counter == 7  # detached: no more counting


def test_iterator_link_in_the_skeleton_is_readable(
    skeleton_module: Callable[[str], ModuleType],
) -> None:
    misc = skeleton_module("attach_misc")
    assert "dump_task: IterLink | None" in Path(misc.__file__).read_text()
    with misc.AttachMiscBpf.open() as skel:
        skel.progs.dump_numbers.autoload = False  # refused here (EPERM), as by libbpf
        skel.load()
        skel.attach()
        link = skel.links.dump_task
        assert link is not None
        assert f" {os.getpid()} " in f" {link.read_text()} "


def test_missing_privilege_is_a_permission_error_with_a_hint(
    build_bpf: Callable[[str], Path],
) -> None:
    """Without capabilities: one clear line, a PermissionError, no fd left open."""
    import shutil
    import subprocess
    import sys

    require(shutil.which("setpriv") is not None, "setpriv (util-linux) is missing")
    script = (
        "import os\n"
        "from skelgen_runtime import BPFObject, BPFPermissionError\n"
        "before = set(os.listdir('/proc/self/fd'))\n"
        f"obj = BPFObject.open({str(build_bpf('globals'))!r})\n"
        "try:\n"
        "    obj.load()\n"
        "except BPFPermissionError as exc:\n"
        "    assert isinstance(exc, PermissionError)\n"
        "    print(str(exc))\n"
        "obj.destroy()\n"
        "assert set(os.listdir('/proc/self/fd')) == before\n"
    )
    # Root with an empty capability bounding set has no CAP_BPF after exec.
    proc = subprocess.run(
        [
            "setpriv",
            "--bounding-set=-all",
            "--inh-caps=-all",
            sys.executable,
            "-c",
            script,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 1
    assert "EPERM" in lines[0] and "CAP_BPF" in lines[0] and "root" in lines[0]


def test_an_object_collected_in_a_cycle_is_destroyed_without_a_crash(
    build_bpf: Callable[[str], Path],
) -> None:
    # In a cycle, the collector may unmap a section's memory (its finalizer)
    # before BPFObject.__del__ destroys the object; that used to read the unmapped
    # pages and kill the process. A child process, so a crash fails only this test.
    script = (
        "import gc, sys\n"
        "from skelgen_runtime import BPFObject\n"
        "obj = BPFObject.open(sys.argv[1])\n"
        "obj.load()\n"
        "obj.cycle = obj\n"
        "del obj\n"
        "gc.collect()\n"
        "print('collected')\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script, str(build_bpf("globals"))],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (proc.returncode, proc.stdout) == (0, "collected\n"), proc.stderr
