"""Tracing attach kinds against the kernel: each test triggers the hook and reads what
the program counted.  Kinds a kernel may refuse (kprobes compiled out; fentry, fexit,
fmod_ret and lsm refused with EPERM) check the one-line error where refused and the
effect where allowed."""

from __future__ import annotations

import errno
import os
import re
import struct
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from attach_support import loaded, read_global, wait_for, write_global
from conftest import open_fds
from kernel_features import with_syscall_programs
from ptrace.syscall.names import SYSCALL_NAMES
from skelgen_runtime import (
    AttachError,
    BPFError,
    BPFObject,
    LoadError,
    PerfSamplingLink,
)
from skelgen_runtime.errors import LoadPermissionError
from skelgen_runtime.features import btf as btf_features, links as link_features
from skelgen_runtime.kernel import btf as kernel_btf
from skelgen_runtime.kernel.cpus import online_cpus
from skelgen_runtime.kernel.kconfig import read_kernel_config
from skelgen_runtime.kernel.probes import (
    ProbeUnsupportedError,
    open_kprobe,
    tracefs_root,
)
from skelgen_runtime.link.link import IterLink
from skelgen_runtime.load.loader import kernel_btf_fd
from skelgen_runtime.sys import commands as cmd, perf
from skelgen_runtime.sys.attr import BpfBtfInfo
from skelgen_runtime.uapi.perf import PERF_COUNT_SW_CPU_CLOCK, PERF_TYPE_SOFTWARE

pytestmark = pytest.mark.usefixtures("root_only")
SYSCALL_NUMBERS = {name: nr for nr, name in SYSCALL_NAMES.items()}


def counts(obj: BPFObject, *names: str) -> dict[str, int]:
    return {name: read_global(obj, name) for name in names}


@pytest.fixture
def trace_obj(build_bpf: Callable[[str], Path]) -> Iterator[BPFObject]:
    getppid_nr = SYSCALL_NUMBERS["getppid"]
    with loaded(
        build_bpf("attach_trace"), target_tgid=os.getpid(), getppid_nr=getppid_nr
    ) as obj:
        yield obj


def test_auto_attach_counts_own_syscalls(trace_obj: BPFObject) -> None:
    links = trace_obj.attach()
    assert {name: (link.kind, link.target) for name, link in links.items()} == {
        "tp_getppid": ("tracepoint", "syscalls/sys_enter_getppid"),
        "raw_sys_enter": ("raw_tracepoint", "sys_enter"),
        "btf_sys_enter": ("tp_btf", "sys_enter"),
    }
    for _ in range(7):
        os.getppid()
    assert counts(trace_obj, "tp_count", "raw_count", "btf_count") == {
        "tp_count": 7,
        "raw_count": 7,
        "btf_count": 7,
    }
    trace_obj.detach()
    assert all(not link.attached for link in links.values())
    os.getppid()
    assert counts(trace_obj, "tp_count", "raw_count", "btf_count") == {
        "tp_count": 7,
        "raw_count": 7,
        "btf_count": 7,
    }


def test_manual_attach_with_explicit_targets(trace_obj: BPFObject) -> None:
    programs = trace_obj.programs
    with (
        programs["tp_getppid"].attach_tracepoint("syscalls", "sys_enter_getppid") as tp,
        programs["raw_sys_enter"].attach_raw_tracepoint("sys_enter") as raw,
        programs["btf_sys_enter"].attach_trace() as btf,
    ):
        for _ in range(3):
            os.getppid()
        assert (tp.attached, raw.attached, btf.attached) == (True, True, True)
    assert not tp.attached
    os.getppid()
    assert counts(trace_obj, "tp_count", "raw_count", "btf_count") == {
        "tp_count": 3,
        "raw_count": 3,
        "btf_count": 3,
    }


def test_missing_tracepoint_is_a_one_line_error(trace_obj: BPFObject) -> None:
    before = open_fds()
    with pytest.raises(AttachError) as info:
        trace_obj.programs["tp_getppid"].attach_tracepoint(
            "syscalls", "sys_enter_skelgen_none"
        )
    message = str(info.value)
    assert message.startswith(
        "attach tp_getppid (tracepoint syscalls/sys_enter_skelgen_none)"
    )
    assert "ENOENT" in message and "\n" not in message
    assert info.value.errno == errno.ENOENT and info.value.program == "tp_getppid"
    with pytest.raises(AttachError, match=r"raw_tracepoint skelgen_none\): ENOENT"):
        trace_obj.programs["raw_sys_enter"].attach_raw_tracepoint("skelgen_none")
    assert open_fds() == before


# -- kinds this kernel may refuse -----------------------------------------------------------


def _kprobes_supported() -> bool:
    try:
        os.close(open_kprobe("__x64_sys_getpgid").perf_fd)
    except ProbeUnsupportedError:
        return False
    return True


def own_probe_events() -> list[str]:
    """This process's lines of tracefs ``kprobe_events`` (``skelgen_<pid>_...``)."""
    with open(os.path.join(tracefs_root(), "kprobe_events")) as f:
        return [line for line in f if f"/skelgen_{os.getpid()}_" in line]


def test_kprobes_count_calls_or_say_the_kernel_has_none(
    build_bpf: Callable[[str], Path],
) -> None:
    with loaded(build_bpf("attach_kprobe"), target_tgid=os.getpid()) as obj:
        programs = obj.programs
        before = open_fds()
        if not _kprobes_supported():
            with pytest.raises(AttachError) as info:
                obj.attach()
            message = str(info.value)
            assert message.startswith("attach on_getpgid (kprobe __x64_sys_getpgid): ")
            assert (
                "this kernel has no kprobe support" in message and "\n" not in message
            )
            assert info.value.errno == errno.EOPNOTSUPP
            for legacy in (False, True):
                with pytest.raises(AttachError, match="no kprobe support"):
                    programs["on_getpgid"].attach_kprobe(
                        "__x64_sys_getpgid", legacy=legacy
                    )
            with pytest.raises(
                AttachError, match=r"\(kprobe __x64_sys_getpgid\): this"
            ):
                programs["on_sys_getpgid"].attach_ksyscall("getpgid")
            assert obj.links == {} and open_fds() == before
            return
        for name in ("on_getpgid", "on_getpgid_ret", "on_sys_getpgid"):
            programs[name].attach()
        pgid = [os.getpgid(0) for _ in range(5)][-1]
        assert counts(obj, "kprobe_count", "kretprobe_count", "ksyscall_count") == {
            "kprobe_count": 5,
            "kretprobe_count": 5,
            "ksyscall_count": 5,
        }
        assert read_global(obj, "kretprobe_ret", signed=True) == pgid
        obj.detach()
        # tracefs kprobe_events, as where the perf PMU has no kprobe: entries named
        # after this process, removed on detach
        with (
            programs["on_getpgid"].attach_kprobe("__x64_sys_getpgid", legacy=True),
            programs["on_getpgid_ret"].attach_kprobe(
                "__x64_sys_getpgid", retprobe=True, legacy=True
            ),
        ):
            os.getpgid(0)
            # "p:kprobes/skelgen_<pid>_..." and "r<maxactive>:kretprobes/..."
            groups = [
                line.split(":", 1)[1].split("/")[0] for line in own_probe_events()
            ]
            assert groups == ["kprobes", "kretprobes"]
        assert own_probe_events() == []
        assert counts(obj, "kprobe_count", "kretprobe_count") == {
            "kprobe_count": 6,
            "kretprobe_count": 6,
        }


def test_kprobe_multi_counts_calls_or_is_refused_clearly(
    build_bpf: Callable[[str], Path],
) -> None:
    with loaded(build_bpf("attach_kprobe"), target_tgid=os.getpid()) as obj:
        program = obj.programs["on_getpgid_multi"]
        before = open_fds()
        with pytest.raises(AttachError, match="no kernel function matches 'skelgen_"):
            program.attach_kprobe_multi("skelgen_none_*")
        try:
            # the section's pattern __x64_sys_getpgi? matches one function
            link = program.attach()
        except AttachError as exc:  # no fprobes in this kernel, as a probe decides
            assert not link_features.has_kprobe_multi()
            # and the kernel's config agrees: a kernel with fprobes must fire them
            assert "CONFIG_FPROBE=y" not in read_kernel_config().splitlines()
            assert str(exc) == (
                "attach on_getpgid_multi (kprobe.multi __x64_sys_getpgi?): "
                "kprobe.multi links need Linux 5.18+ built with CONFIG_FPROBE "
                "(BPF_TRACE_KPROBE_MULTI); this kernel lacks them"
            )
            assert exc.errno in (errno.EOPNOTSUPP, errno.EINVAL)
            assert open_fds() == before
            with pytest.raises(AttachError, match=r"need Linux 5\.18"):
                program.attach_kprobe_multi(["__x64_sys_getpgid", "__x64_sys_getsid"])
            return
        assert link_features.has_kprobe_multi()
        os.getpgid(0)
        os.getsid(0)
        assert read_global(obj, "multi_count") == 1
        link.detach()
        with program.attach_kprobe_multi(["__x64_sys_getpgid", "__x64_sys_getsid"]):
            os.getpgid(0)
            os.getsid(0)
        assert read_global(obj, "multi_count") == 3


BTF_KINDS = {
    "on_entry": "fentry",
    "on_exit": "fexit",
    "override": "fmod_ret",
    "on_file_open": "lsm",
}


def _load_only(path: Path, program: str) -> BPFObject:
    obj = BPFObject.open(path)
    for prog in obj.programs.values():
        prog.autoload = prog.name == program
    write_global(obj, "target_tgid", os.getpid())
    write_global(obj, "refuse_errno", -errno.EPERM)
    return obj


@pytest.mark.parametrize("program", sorted(BTF_KINDS))
def test_btf_kinds_work_or_are_refused_clearly(
    build_bpf: Callable[[str], Path], program: str
) -> None:
    kind = BTF_KINDS[program]
    with _load_only(build_bpf("attach_btf_kinds"), program) as obj:
        try:
            obj.load()
        except LoadPermissionError as exc:
            # Refused by this kernel: one line naming the program, the kind and EPERM.
            assert exc.errno == errno.EPERM and exc.program == program
            assert f"load program {program} ({kind}/" in str(exc) and "\n" not in str(
                exc
            )
            assert isinstance(exc, PermissionError)
            return
        link = obj.programs[program].attach()
        assert link.kind == kind
        if kind == "lsm":
            for _ in range(3):
                Path("/proc/self/stat").read_bytes()
            assert read_global(obj, "lsm_count") >= 3
            return
        if kind == "fmod_ret":  # getsid() of this process fails with EPERM
            # by pid: getsid(0) returns the caller's session with no LSM check
            with pytest.raises(PermissionError):
                os.getsid(os.getpid())
            link.detach()
            assert os.getsid(os.getpid()) > 0
            return
        pgid = os.getpgid(0)
        if kind == "fentry":
            assert read_global(obj, "fentry_count") == 1
        else:
            assert read_global(obj, "fexit_count") == 1
            assert read_global(obj, "fexit_ret", signed=True) == pgid


def test_attach_target_is_resolved_in_kernel_btf(
    build_bpf: Callable[[str], Path],
) -> None:
    path = build_bpf("attach_btf_kinds")
    with (
        _load_only(path, "untargeted") as obj,
        pytest.raises(LoadError, match="no attach target in section 'fentry'"),
    ):
        obj.load()
    with _load_only(path, "untargeted") as obj:
        obj.programs["untargeted"].set_attach_target("skelgen_no_such_function")
        with pytest.raises(LoadError) as info:
            obj.load()
        assert "'skelgen_no_such_function' is not in the BTF of vmlinux nor" in str(
            info.value
        )
        assert info.value.errno == errno.ESRCH
    with _load_only(path, "untargeted") as obj:
        obj.programs["untargeted"].set_attach_target(
            "skelgen_no_such_module:do_nothing"
        )
        with pytest.raises(LoadError, match="skelgen_no_such_module"):
            obj.load()
    with _load_only(path, "untargeted") as obj:
        # A real target: the load then fails only where the kernel refuses fentry.
        obj.programs["untargeted"].set_attach_target("__x64_sys_getpgid")
        try:
            obj.load()
        except LoadPermissionError:
            return
        with obj.programs["untargeted"].attach() as link:
            assert link.target == "__x64_sys_getpgid"
        with pytest.raises(LoadError, match="before load"):
            obj.programs["untargeted"].set_attach_target("__x64_sys_getsid")


# -- perf events, iterators, test runs -------------------------------------------------------


def test_perf_event_program_samples_on_every_cpu(
    build_bpf: Callable[[str], Path],
) -> None:
    path = build_bpf("attach_misc")
    with loaded(path, without=["dump_numbers"], target_tgid=os.getpid()) as obj:
        program = obj.programs["on_sample"]
        with pytest.raises(AttachError, match=r"attach_perf_event\(perf_fd\)"):
            program.attach()
        links = [
            program.attach_perf_event(
                perf.open_perf_event(
                    PERF_TYPE_SOFTWARE,
                    PERF_COUNT_SW_CPU_CLOCK,
                    cpu=cpu,
                    sample_freq=1000,
                )
            )
            for cpu in range(os.cpu_count() or 1)
        ]
        deadline = time.monotonic() + 0.15
        while time.monotonic() < deadline:
            pass  # busy: the samples on our CPU catch this process
        assert read_global(obj, "target_samples") >= 20
        before = open_fds()
        for link in links:
            link.detach()
        # each a perf event fd, and a BPF link fd where the kernel has perf links
        per_link = 2 if link_features.has_perf_link() else 1
        assert len(before - open_fds()) == per_link * len(links)
        stopped = read_global(obj, "samples")
        time.sleep(0.05)
        assert read_global(obj, "samples") == stopped


def test_perf_sampling_attaches_per_cpu_and_detaches_together(
    build_bpf: Callable[[str], Path],
) -> None:
    path = build_bpf("attach_misc")
    with loaded(path, without=["dump_numbers"], target_tgid=os.getpid()) as obj:
        program = obj.programs["on_sample"]
        before = open_fds()
        link = program.attach_perf_sampling(freq=1000)
        assert isinstance(link, PerfSamplingLink) and link.kind == "perf_sampling"
        assert len(link.per_cpu) == len(online_cpus())
        assert link.target == "cpu-clock 1000 Hz on every cpu"
        deadline = time.monotonic() + 0.15
        while time.monotonic() < deadline:
            pass  # busy: the samples on our CPU catch this process
        assert read_global(obj, "target_samples") >= 20
        link.detach()
        assert open_fds() == before
        stopped = read_global(obj, "samples")
        time.sleep(0.05)
        assert read_global(obj, "samples") == stopped

        with program.attach_perf_sampling(period=1_000_000, cpu=0) as one:
            assert [each.target for each in one.per_cpu] == [
                "cpu-clock every 1000000 ns on cpu 0"
            ]
        with pytest.raises(AttachError, match="give one of freq"):
            program.attach_perf_sampling()
        with pytest.raises(
            AttachError, match=r"perf_sampling cpu-clock 99 Hz on cpu 4096\): "
        ):
            program.attach_perf_sampling(freq=99, cpu=4096)
        assert open_fds() == before


def test_task_iterator_prints_the_tasks(build_bpf: Callable[[str], Path]) -> None:
    with loaded(build_bpf("attach_misc"), without=["dump_numbers"]) as obj:
        links = obj.attach()  # iter/task is auto-attached; perf_event is not
        assert set(links) == {"dump_task"}
        link = links["dump_task"]
        assert isinstance(link, IterLink)
        with subprocess.Popen(["sleep", "10"]) as child:
            try:
                # exec renames the task a moment after Popen has returned
                comm = Path(f"/proc/{child.pid}/comm")
                assert wait_for(lambda: comm.read_text() == "sleep\n")
                rows = [
                    line.split(maxsplit=2) for line in link.read_text().splitlines()
                ]
            finally:
                child.kill()
        tasks = {(int(tgid), int(pid)): comm for tgid, pid, comm in rows}
        assert tasks[(child.pid, child.pid)] == "sleep"
        with open("/proc/self/comm") as f:
            assert tasks[(os.getpid(), os.getpid())] == f.read().strip()
        # every thread of this process, as /proc lists them
        threads = {int(t) for t in os.listdir("/proc/self/task")}
        assert {pid for tgid, pid in tasks if tgid == os.getpid()} == threads
        # each read runs the iterator again: the child is gone now
        assert (child.pid, child.pid) not in {
            (int(tgid), int(pid))
            for tgid, pid, _ in (
                line.split(maxsplit=2) for line in link.read_text().splitlines()
            )
        }


def test_map_iterator_walks_the_given_map(build_bpf: Callable[[str], Path]) -> None:
    with BPFObject.open(build_bpf("attach_misc")) as obj:
        for prog in obj.programs.values():
            prog.autoload = prog.name == "dump_numbers"
        try:
            obj.load()
        except LoadPermissionError as exc:  # this kernel refuses bpf_map_elem iterators
            assert "iter/bpf_map_elem" in str(exc) and exc.errno == errno.EPERM
            return
        numbers = obj.maps["numbers"]
        for key in range(4):
            numbers[key] = key * 11
        with obj.programs["dump_numbers"].attach_iter(numbers) as link:
            assert link.read_text() == "0=0\n1=11\n2=22\n3=33\n"


def test_test_run_xdp_program(build_bpf: Callable[[str], Path]) -> None:
    with loaded(build_bpf("attach_misc"), without=["dump_numbers"]) as obj:
        xdp = obj.programs["xdp_rewrite"]
        frame = bytes([0xAA, 0x00, 0x11, 0x22]) + bytes(60)
        result = xdp.test_run(data=frame, repeat=100)
        assert result.retval == 2  # XDP_PASS
        assert result.data == bytes([0xAA, 0x55, 0x11, 0x22]) + bytes(60)
        assert result.duration_ns > 0
        assert xdp.test_run(data=bytes([0xAB]) + bytes(63)).retval == 1  # XDP_DROP
        # Shorter than an Ethernet header: refused where the kernel checks the
        # frame's size, else the program runs on the one byte.
        try:
            short = xdp.test_run(data=b"\xaa")
        except BPFError as exc:
            assert re.match(r"test_run xdp_rewrite: EINVAL.*too short", str(exc))
        else:
            assert short.retval == 1 and short.data == b"\xaa"  # XDP_DROP


def test_test_run_syscall_program(build_bpf: Callable[[str], Path]) -> None:
    with BPFObject.open(build_bpf("attach_syscall")) as obj:
        with_syscall_programs(obj.load)
        add = obj.programs["add_args"]
        result = add.test_run(ctx=struct.pack("<iii", 6, 7, 0))
        assert result.retval == 42
        assert struct.unpack("<iii", result.ctx) == (6, 7, 13)
        with pytest.raises(BPFError, match="runs once, on ctx only"):
            add.test_run(ctx=struct.pack("<iii", 1, 2, 0), repeat=5)


def test_kernel_btf_objects_are_found_by_name() -> None:
    if not btf_features.has_named_kernel_btf():  # before 5.11, as a probe decides
        assert kernel_btf.module_btf_names() == []
        with pytest.raises(LoadError) as caught:
            kernel_btf_fd("vmlinux")
        assert str(caught.value) == (
            "find the kernel BTF of vmlinux: kernel BTF objects with names (vmlinux, "
            "modules) need Linux 5.11+ (bpf_btf_info.name); this kernel lacks them"
        )
        return
    # The fd passed with a module's attach target: here vmlinux's, the one BTF object
    # every kernel has; its size must be that of /sys/kernel/btf/vmlinux.
    fd = kernel_btf_fd("vmlinux")
    try:
        info = BpfBtfInfo()
        cmd.obj_info(fd, info)
        assert info.kernel_btf == 1
        assert info.btf_size == os.path.getsize(kernel_btf.VMLINUX_BTF)
    finally:
        os.close(fd)
    for module in kernel_btf.module_btf_names()[:3]:
        fd = kernel_btf_fd(module)
        cmd.obj_info(fd, info := BpfBtfInfo())
        os.close(fd)
        assert info.btf_size == os.path.getsize(f"{kernel_btf.BTF_DIR}/{module}")
    before = open_fds()
    with pytest.raises(LoadError, match="no BTF object named 'skelgen_none'"):
        kernel_btf_fd("skelgen_none")
    assert open_fds() == before
