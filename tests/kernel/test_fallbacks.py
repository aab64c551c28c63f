"""libbpf's fallbacks for older kernels, seen for effect: each test forces the
fallback where this kernel would not need it (so the host runs it too), and the VM
matrix runs it on kernels that do need it (docs/kernels.md)."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest
from attach_support import loaded, read_global
from conftest import open_fds
from ptrace.syscall.names import SYSCALL_NAMES
from skelgen_runtime import AttachError, BPFObject, LoadError
from skelgen_runtime.features import (
    links as link_features,
    maps as map_features,
    programs as program_features,
)
from skelgen_runtime.kernel.probes import ProbeUnsupportedError, open_kprobe
from skelgen_runtime.uapi.bpf import MapType, ProgType

pytestmark = pytest.mark.usefixtures("root_only")
GETPPID_NR = {name: nr for nr, name in SYSCALL_NAMES.items()}["getppid"]


@pytest.fixture
def trace_obj(build_bpf: Callable[[str], Path]) -> Iterator[BPFObject]:
    with loaded(
        build_bpf("attach_trace"), target_tgid=os.getpid(), getppid_nr=GETPPID_NR
    ) as obj:
        yield obj


@pytest.mark.parametrize("perf_link", [True, False], ids=["bpf-link", "ioctl"])
def test_tracepoint_attach_counts_with_a_perf_link_or_by_ioctl(
    perf_link: bool, trace_obj: BPFObject, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without BPF perf links (< 5.15) the program goes on the perf event by
    PERF_EVENT_IOC_SET_BPF: still a Link, detached by closing the event, and
    refused clearly when pinned."""
    if perf_link and not link_features.has_perf_link():
        pytest.skip("this kernel has no BPF perf links (5.15+): the ioctl case runs")
    monkeypatch.setattr(link_features, "has_perf_link", lambda: perf_link)
    before = open_fds()
    link = trace_obj.programs["tp_getppid"].attach_tracepoint(
        "syscalls", "sys_enter_getppid"
    )
    inode = os.readlink(f"/proc/self/fd/{link.fd}")
    assert inode == ("anon_inode:bpf_link" if perf_link else "anon_inode:[perf_event]")
    for _ in range(5):
        os.getppid()
    assert read_global(trace_obj, "tp_count") == 5
    if not perf_link:
        with pytest.raises(AttachError, match="not a BPF link") as caught:
            link.pin("/sys/fs/bpf/skelgen_never_pinned")
        assert "BPF perf-event links need Linux 5.15+" in str(caught.value)
        assert not os.path.exists("/sys/fs/bpf/skelgen_never_pinned")
    link.detach()
    os.getppid()
    assert read_global(trace_obj, "tp_count") == 5
    assert open_fds() == before


MEMLOCK_CHILD = """
import resource, sys
from skelgen_runtime import BPFObject, HashMap
from skelgen_runtime.features.programs import has_memcg_accounting
from skelgen_runtime.uapi.bpf import MapType
resource.setrlimit(resource.RLIMIT_MEMLOCK, (0, 0))
with BPFObject.open(sys.argv[1]) as obj:
    for program in obj.programs.values():
        program.autoload = False
    obj.load()
with HashMap.create(MapType.HASH, 4, 4, 100_000) as m:
    m[1] = 2
    assert len(m) == 1
limit = resource.getrlimit(resource.RLIMIT_MEMLOCK)
print(has_memcg_accounting(), limit == (resource.RLIM_INFINITY,) * 2)
"""


def test_maps_are_created_whatever_the_memlock_limit(
    build_bpf: Callable[[str], Path],
) -> None:
    """A process with RLIMIT_MEMLOCK 0 loads an object and creates a map: where the
    kernel charges BPF memory to the limit (< 5.11, decided by libbpf's memcg
    probe) the runtime raised it to infinity first, else left it alone."""
    path = build_bpf("attach_trace")
    child = subprocess.run(
        [sys.executable, "-c", MEMLOCK_CHILD, str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert child.returncode == 0, child.stderr
    memcg, raised = child.stdout.split()
    assert raised == str(memcg == "False")
    assert resource.getrlimit(resource.RLIMIT_MEMLOCK) != (0, 0)


def test_globals_without_mmap_go_through_the_map(
    skeleton_module: Callable[[str], ModuleType], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without BPF_F_MMAPABLE (< 5.5) the sections stay private copies: reads
    through the skeleton are refreshed from the map, field and array element writes
    are sent to it."""
    globals_skel = skeleton_module("globals")
    if not program_features.has_prog_type(ProgType.SYSCALL):
        pytest.skip("the globals object runs through a syscall program (5.14+)")
    monkeypatch.setattr(map_features, "has_mmapable_arrays", lambda: False)
    with globals_skel.GlobalsBpf.open() as skel:
        skel.data.seeded = 50
        skel.load()
        assert skel.obj.datasec(".data").map_backed
        skel.data.seeded = 1000  # a field write goes to the map
        skel.data.pair_init.a = 21  # also inside a struct
        skel.bss.bytes_out[2] = 99  # and an array element
        assert skel.maps.data.lookup(0).seeded == 1000
        assert skel.maps.bss.lookup(0).bytes_out[2] == 99
        skel.progs.run_all.test_run()
        assert skel.bss.last.a == 42  # a read of skel.bss refreshes the copy
        assert skel.bss.counter == 1000 * 3 + 5 + 16
        assert skel.data.seeded == 1001  # the program's write
        bss = skel.bss
    assert not skel.obj.datasec(".bss").map_backed
    assert bss.counter == 1000 * 3 + 5 + 16  # destroy kept the last values


def test_kinds_this_kernel_lacks_are_named_with_the_version_they_need(
    build_bpf: Callable[[str], Path],
) -> None:
    """A program or map type the kernel lacks (a probe decides) is refused with the
    feature and the kernel that brought it, not a bare EINVAL; one it has loads."""
    with BPFObject.open(build_bpf("ringbuf_events")) as obj:
        if map_features.has_map_type(MapType.USER_RINGBUF):
            obj.load()
        else:
            with pytest.raises(LoadError) as caught:
                obj.load()
            assert str(caught.value) == (
                "create map from_user: user ring buffers need Linux 6.1+ "
                "(BPF_MAP_TYPE_USER_RINGBUF); this kernel lacks them"
            )
    with BPFObject.open(build_bpf("globals")) as obj:
        for program in obj.programs.values():
            program.autoload = program.spec.kind is not None and (
                program.spec.kind.prog_type == ProgType.SYSCALL
            )
        if program_features.has_prog_type(ProgType.SYSCALL):
            obj.load()
        else:
            with pytest.raises(
                LoadError, match=r"syscall programs need Linux 5\.14"
            ) as c:
                obj.load()
            assert str(c.value).endswith(
                "(BPF_PROG_TYPE_SYSCALL); this kernel lacks them"
            )


def _kprobes_supported() -> bool:
    try:
        os.close(open_kprobe("__x64_sys_getpgid").perf_fd)
    except ProbeUnsupportedError:
        return False
    return True


def test_skeleton_tracepoint_kprobe_and_uprobe_count_and_stream_in_order(
    skeleton_module: Callable[[str], ModuleType],
) -> None:
    """What the oldest kernels must do: a generated skeleton attaches a tracepoint,
    a kprobe and a uprobe (perf links or ioctl, as the kernel has them), they count,
    and the ring buffer delivers every event in order across wraparounds."""
    fallback = skeleton_module("fallback_trace")
    with fallback.FallbackTraceBpf.open() as skel:
        skel.rodata.target_tgid = os.getpid()
        kprobes = _kprobes_supported()
        skel.progs.on_getpgid.autoload = kprobes  # this kernel may have none
        skel.load()
        skel.attach()
        assert skel.links.on_getppid is not None
        assert skel.links.on_libc_getsid is not None
        seen: list[int] = []
        for _ in range(8):  # 8 x 400 events of 16 bytes through a 16 KiB ring
            for _ in range(400):
                os.getppid()
            skel.maps.events.poll(lambda e: seen.append(e.seq), timeout=1.0)
        assert skel.bss.dropped == 0
        assert seen == list(range(3200))
        assert skel.bss.tp_count == 3200
        for _ in range(3):
            os.getpgid(0)
            os.getsid(0)
        assert skel.bss.uprobe_count == 3
        assert skel.bss.kprobe_count == (3 if kprobes else 0)
        skel.detach()
        os.getppid()
        os.getsid(0)
        assert (skel.bss.tp_count, skel.bss.uprobe_count) == (3200, 3)
