"""USDT probes against the kernel, read through libbpf's usdt.bpf.h.

The target (``usdt_target.c``, built here with ``<sys/sdt.h>``) fires its probes once
per line it reads and answers with its semaphore's value; the BPF programs record
what ``bpf_usdt_arg()``, ``bpf_usdt_arg_cnt()`` and ``bpf_usdt_cookie()`` return.
CPython's garbage-collector probes (semaphore-guarded, one argument on the stack)
are attached from the section names.  The spec map is compared with what libbpf
writes for the same probes.
"""

from __future__ import annotations

import errno
import os
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import libbpf_oracle
import pytest
from attach_support import loaded, read_global
from conftest import open_fds
from skelgen_runtime import AttachError, BPFObject, UsdtLink
from skelgen_runtime.features import programs as program_features
from skelgen_runtime.kernel.probes import tracefs_root
from skelgen_runtime.usdt import IP_TO_SPEC_ID_MAP, SPECS_MAP
from skelgen_runtime.usdt.args import parse_args
from skelgen_runtime.usdt.sites import read_binary

pytestmark = pytest.mark.usefixtures("root_only")
TARGET_SOURCE = Path(__file__).with_name("usdt_target.c")
PYTHON = "/usr/bin/python3"
ENOENT_RETURN = -errno.ENOENT
EXACT_VALUES = [
    -42,  # -8@%rax
    -10,  # -4@%ebx of 0x77777777fffffff6
    258,  # 2@%cx of 0x123456789abc0102
    -3,  # -1@%dl of 0x55555555555555fd
    0x0123456789ABCDEF,  # 8@%r12
    -2147483643,  # -4@%r13d of 0x1111111180000005
    -16,  # -2@%r14w of 0x222222222222fff0
    200,  # 1@%r15b of 0x33333333333333c8
    -5,  # -4@$-5
    77,  # 8@$77
    -7,  # -4@8(%rsi): the low half of 0xaaaaaaaafffffff9
    0x0102030405060708,  # 8@-8(%rdi)
]
COOKIE = 0xFEEDFACECAFEBEEF


@pytest.fixture(scope="module")
def target_pie(
    build_c: Callable[..., Path], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    return build_c(TARGET_SOURCE, tmp_path_factory.mktemp("usdt") / "usdt_target")


@pytest.fixture(scope="module")
def target_no_pie(
    build_c: Callable[..., Path], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    out = tmp_path_factory.mktemp("usdt") / "usdt_target_no_pie"
    return build_c(TARGET_SOURCE, out, "-no-pie", "-fno-pie")


@pytest.fixture(scope="module")
def target(target_pie: Path, target_no_pie: Path) -> Path:
    """A PIE; where the kernel has no BPF cookies (a probe decides) an attachment
    for every process finds its spec by a fixed address, which a PIE has not (libbpf
    refuses that too): there the target is the one built without PIE."""
    return target_pie if program_features.has_bpf_cookie() else target_no_pie


@pytest.fixture
def usdt_obj(build_bpf: Callable[[str], Path]) -> Iterator[BPFObject]:
    with loaded(build_bpf("usdt_probes"), target_tgid=os.getpid()) as obj:
        yield obj


class Target:
    """A running target: each ``round()`` fires every probe once and returns the
    guarded probe's semaphore."""

    def __init__(self, path: Path) -> None:
        self.proc = subprocess.Popen(
            [str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        self.pid = self.proc.pid

    def round(self) -> int:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()
        return int(self.proc.stdout.readline())

    def stop(self) -> None:
        self.proc.communicate(timeout=10)
        assert self.proc.returncode == 0


@pytest.fixture
def running(target: Path) -> Iterator[Target]:
    proc = Target(target)
    yield proc
    proc.stop()


def read_array(obj: BPFObject, name: str, size: int) -> list[int]:
    """A global array of signed integers of ``size`` bytes each."""
    for section, datasec in obj.spec.datasecs.items():
        for var in datasec.variables:
            if var.name == name:
                raw = obj.datasec(section).read()[var.offset : var.offset + var.size]
                return [
                    int.from_bytes(raw[i : i + size], "little", signed=True)
                    for i in range(0, len(raw), size)
                ]
    raise KeyError(name)


def specs_in_map(obj: BPFObject, count: int) -> list[bytes]:
    return [obj.maps[SPECS_MAP][spec_id] for spec_id in range(count)]


# -- every argument kind ------------------------------------------------------------------


@pytest.mark.parametrize("legacy", [False, True], ids=["pmu", "tracefs"])
def test_every_operand_kind(
    usdt_obj: BPFObject, running: Target, target: Path, legacy: bool
) -> None:
    link = usdt_obj.programs["on_exact"].attach_usdt(
        str(target), "skelgen", "exact", cookie=COOKIE, legacy=legacy
    )
    assert isinstance(link, UsdtLink) and len(link.uprobes) == 1
    if legacy:  # a tracefs uprobe with the semaphore's offset in parentheses
        with open(target, "rb") as f:
            [site] = read_binary(f, str(target)).sites("skelgen", "exact")
        events = Path(tracefs_root(), "uprobe_events").read_text()
        assert f"({site.semaphore_offset:#x})" in events
    running.round()
    running.round()
    assert read_array(usdt_obj, "exact_args", 8) == EXACT_VALUES
    assert read_array(usdt_obj, "exact_errors", 4) == [0] * 12
    assert read_global(usdt_obj, "exact_arg_cnt", signed=True) == 12
    assert read_global(usdt_obj, "exact_cookie") == COOKIE
    assert read_global(usdt_obj, "exact_past_end", signed=True) == ENOENT_RETURN
    assert read_global(usdt_obj, "exact_hits") == 2
    link.detach()
    running.round()
    assert read_global(usdt_obj, "exact_hits") == 2
    assert str(target) not in Path(tracefs_root(), "uprobe_events").read_text()


def test_compiler_chosen_operands_through_bpf_usdt(
    usdt_obj: BPFObject, running: Target, target: Path
) -> None:
    # gcc -O2 writes "-4@$-7 -4@%edi -8@%rsi 1@%dl -2@(%rcx)" here; whatever it
    # chooses, BPF_USDT must see the values.
    with usdt_obj.programs["on_natural"].attach_usdt(str(target), "skelgen", "natural"):
        running.round()
        running.round()
    assert read_array(usdt_obj, "natural_args", 8) == [-7, 2, -5_000_000_000, 250, -300]
    assert read_global(usdt_obj, "natural_hits") == 2


def test_sites_sharing_arguments_share_a_spec(
    usdt_obj: BPFObject, running: Target, target: Path
) -> None:
    link = usdt_obj.programs["on_multi"].attach_usdt(
        str(target), "skelgen", "multi", pid=running.pid, cookie=99
    )
    assert len(link.uprobes) == 3
    running.round()
    assert read_array(usdt_obj, "multi_values", 8)[:4] == [1, 2, 3, 0]
    assert read_array(usdt_obj, "multi_cookies", 8)[:4] == [99, 99, 99, 0]
    # "-4@%eax" twice and "-4@$3": two specs, in the order their sites come.
    layout = usdt_obj.programs["on_multi"].usdt_manager.layout
    assert specs_in_map(usdt_obj, 3) == [
        layout.encode(parse_args("-4@%eax"), 99),
        layout.encode(parse_args("-4@$3"), 99),
        bytes(layout.size),
    ]
    link.detach()


def test_semaphore_is_raised_only_while_attached(
    usdt_obj: BPFObject, running: Target, target: Path
) -> None:
    assert running.round() == 0
    with usdt_obj.programs["on_guarded"].attach_usdt(str(target), "skelgen", "guarded"):
        assert running.round() == 1  # round 2 fired the guarded probe
        assert running.round() == 1
    assert running.round() == 0
    assert read_global(usdt_obj, "guarded_hits") == 2
    assert read_global(usdt_obj, "guarded_round") == 3


def test_pid_filter(usdt_obj: BPFObject, target: Path) -> None:
    first, second = Target(target), Target(target)
    try:
        with usdt_obj.programs["on_guarded"].attach_usdt(
            str(target), "skelgen", "guarded", pid=second.pid
        ):
            # Only the filtered process gets its semaphore raised and fires.
            assert first.round() == 0
            assert second.round() == 1
    finally:
        first.stop()
        second.stop()
    assert read_global(usdt_obj, "guarded_hits") == 1


def test_spec_ids_are_reused_after_detach(
    usdt_obj: BPFObject, running: Target, target: Path
) -> None:
    program = usdt_obj.programs["on_exact"]
    first = program.attach_usdt(str(target), "skelgen", "exact", cookie=1)
    if not program_features.has_bpf_cookie():  # one spec per address, as libbpf
        with pytest.raises(AttachError, match="already probed") as info:
            program.attach_usdt(str(target), "skelgen", "exact", cookie=2)
        assert info.value.errno == errno.EEXIST
        first.detach()
        return
    second = program.attach_usdt(str(target), "skelgen", "exact", cookie=2)
    running.round()  # both links fire: the last one to run wrote its cookie
    assert read_global(usdt_obj, "exact_hits") == 2
    cookies = [spec[192:200] for spec in specs_in_map(usdt_obj, 2)]
    assert cookies == [(1).to_bytes(8, "little"), (2).to_bytes(8, "little")]
    first.detach()
    third = program.attach_usdt(str(target), "skelgen", "exact", cookie=3)
    # third took the id first gave back
    assert specs_in_map(usdt_obj, 1)[0][192:200] == (3).to_bytes(8, "little")
    second.detach()
    third.detach()


def test_concurrent_attaches_get_distinct_specs(
    usdt_obj: BPFObject, target: Path
) -> None:
    procs = [Target(target) for _ in range(4)]
    links: list[UsdtLink] = []
    refused: list[AttachError] = []
    lock = threading.Lock()

    def attach(index: int) -> None:
        try:
            link = usdt_obj.programs["on_exact"].attach_usdt(
                str(target), "skelgen", "exact", pid=procs[index].pid, cookie=index + 10
            )
        except AttachError as exc:
            with lock:
                refused.append(exc)
            return
        with lock:
            links.append(link)

    threads = [threading.Thread(target=attach, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        if not program_features.has_bpf_cookie():
            # the four processes map the site at one address: one spec per address
            assert len(links) == 1 and len(refused) == 3
            assert all(exc.errno == errno.EEXIST for exc in refused)
            return
        assert not refused
        cookies = {
            int.from_bytes(s[192:200], "little") for s in specs_in_map(usdt_obj, 4)
        }
        assert cookies == {10, 11, 12, 13}
        for index, proc in enumerate(procs):
            proc.round()
            assert read_global(usdt_obj, "exact_cookie") == index + 10
    finally:
        for link in links:
            link.detach()
        for proc in procs:
            proc.stop()
    assert read_global(usdt_obj, "exact_hits") == 4


# -- without BPF cookies: the address → spec map ---------------------------------------------


@pytest.fixture
def no_cookie_obj(
    build_bpf: Callable[[str], Path], monkeypatch: pytest.MonkeyPatch
) -> Iterator[BPFObject]:
    """The object loaded as for a kernel without bpf_get_attach_cookie(): the BPF side
    (LINUX_HAS_BPF_COOKIE) and the attach side ask the same feature probe."""
    monkeypatch.setattr(program_features, "has_bpf_cookie", lambda: False)
    with loaded(build_bpf("usdt_probes")) as obj:
        yield obj


@pytest.mark.parametrize("pie", [True, False], ids=["pie", "no-pie"])
def test_without_cookies_specs_are_found_by_address(
    no_cookie_obj: BPFObject, target_pie: Path, target_no_pie: Path, pie: bool
) -> None:
    binary = target_pie if pie else target_no_pie
    proc = Target(binary)
    try:
        program = no_cookie_obj.programs["on_exact"]
        if pie:  # a PIE's load address is the process's
            with pytest.raises(AttachError, match="give the pid") as info:
                program.attach_usdt(str(binary), "skelgen", "exact")
            assert info.value.errno == errno.EOPNOTSUPP
        link = program.attach_usdt(
            str(binary), "skelgen", "exact", pid=proc.pid if pie else -1, cookie=COOKIE
        )
        [(address, spec_id)] = no_cookie_obj.maps[IP_TO_SPEC_ID_MAP].items()
        with open(binary, "rb") as f:
            [site] = read_binary(f, str(binary)).sites("skelgen", "exact")
        if not pie:
            assert address == site.address
        proc.round()
        assert read_array(no_cookie_obj, "exact_args", 8) == EXACT_VALUES
        assert read_global(no_cookie_obj, "exact_cookie") == COOKIE
        # A second attachment of this object cannot claim the same address.
        with pytest.raises(AttachError, match="already probed") as info:
            no_cookie_obj.programs["on_natural"].attach_usdt(
                str(binary), "skelgen", "exact", pid=proc.pid
            )
        assert info.value.errno == errno.EEXIST
        link.detach()
        assert list(no_cookie_obj.maps[IP_TO_SPEC_ID_MAP].items()) == []
        assert spec_id == 0
    finally:
        proc.stop()


# -- against libbpf --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "program, probe, cookie",
    [
        ("on_exact", "skelgen:exact", COOKIE),
        ("on_natural", "skelgen:natural", 0),
        ("on_multi", "skelgen:multi", 5),
        ("on_python_gc_start", "python:gc__start", 0),
    ],
)
def test_specs_match_libbpf(
    build_bpf: Callable[[str], Path],
    target: Path,
    program: str,
    probe: str,
    cookie: int,
) -> None:
    provider, name = probe.split(":")
    binary = PYTHON if provider == "python" else str(target)
    if provider == "python" and not has_probe(PYTHON, provider, name):
        pytest.skip(f"{PYTHON} has no USDT probe {probe}")
    obj_path = build_bpf("usdt_probes")
    libbpf = libbpf_oracle.run_libbpf(
        obj_path,
        load_only=[program],
        attach_usdt=f"{program}:{binary}:{probe}",
        usdt_cookie=cookie,
    )
    assert libbpf.load_ok and libbpf.usdt_errno == 0, libbpf.stderr
    with (
        loaded(obj_path) as obj,
        obj.programs[program].attach_usdt(binary, provider, name, cookie=cookie),
    ):
        ours = specs_in_map(obj, len(libbpf.usdt_specs))
    assert ours == libbpf.usdt_specs
    assert any(ours)


# -- CPython's probes, from the section names --------------------------------------------------


def has_probe(binary: str, provider: str, name: str) -> bool:
    try:
        with open(binary, "rb") as f:
            notes = read_binary(f, binary).notes
    except (OSError, AttachError):
        return False
    return any(n.provider == provider and n.name == name for n in notes)


GC_SCRIPT = """\
import gc, sys
gc.disable()
print("ready", flush=True)
sys.stdin.readline()
for _ in range(5):
    cycle = []
    cycle.append(cycle)
del cycle
print(gc.collect(1), flush=True)
sys.stdin.readline()
"""


def test_python_gc_probes_auto_attached(build_bpf: Callable[[str], Path]) -> None:
    if not has_probe(PYTHON, "python", "gc__start"):
        pytest.skip(f"{PYTHON} has no USDT probes (built without --with-dtrace)")
    proc = subprocess.Popen(
        [PYTHON, "-S", "-c", GC_SCRIPT],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        # attach only once start-up's own collections are over
        assert proc.stdout.readline() == "ready\n"
        with loaded(build_bpf("usdt_probes"), target_tgid=proc.pid) as obj:
            links = obj.attach()
            # only the programs whose section names a probe
            assert sorted(links) == ["on_python_gc_done", "on_python_gc_start"]
            proc.stdin.write("go\n")
            proc.stdin.flush()
            collected = int(proc.stdout.readline())
            assert read_global(obj, "python_gc_hits") == 1
            assert read_global(obj, "python_gc_generation", signed=True) == 1
            assert read_global(obj, "python_gc_collected", signed=True) == collected
            assert collected >= 5
    finally:
        proc.communicate("\n", timeout=10)


# -- refusals -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "probe, message, code",
    [
        ("sib", r"base \+ index \* scale operand.*libbpf 1\.7", errno.EOPNOTSUPP),
        ("symbolic", r"'8@skelgen_memory\(%rip\)': unrecognised operand", errno.EINVAL),
        ("nope", "no USDT probe skelgen:nope in", errno.ENOENT),
    ],
)
def test_unusable_probes_are_one_line_errors(
    usdt_obj: BPFObject, target: Path, probe: str, message: str, code: int
) -> None:
    before = open_fds()
    with pytest.raises(AttachError, match=message) as info:
        usdt_obj.programs["on_exact"].attach_usdt(str(target), "skelgen", probe)
    assert info.value.errno == code and "\n" not in str(info.value)
    assert open_fds() == before
    # nothing was taken: the next attachment gets spec id 0
    with usdt_obj.programs["on_exact"].attach_usdt(str(target), "skelgen", "exact"):
        assert any(specs_in_map(usdt_obj, 1))


def test_failed_uprobe_rolls_everything_back(usdt_obj: BPFObject, target: Path) -> None:
    before = open_fds()
    with pytest.raises(AttachError, match="ESRCH") as info:
        # no such process: the uprobe fails after the spec was written
        usdt_obj.programs["on_multi"].attach_usdt(
            str(target), "skelgen", "multi", pid=1 << 22
        )
    assert "\n" not in str(info.value)
    assert open_fds() == before
    manager = usdt_obj.programs["on_multi"].usdt_manager
    assert manager.allocate(1) == [1]  # ids 0 and 1 came back; 1 is reused first
    manager.release([1])


@pytest.mark.parametrize(
    "binary, message",
    [
        ("/nonexistent/usdt_target", "no such file"),
        ("/bin/true", r"no USDT probes \(no \.note\.stapsdt section\)"),
    ],
)
def test_bad_binaries(usdt_obj: BPFObject, binary: str, message: str) -> None:
    with pytest.raises(AttachError, match=message) as info:
        usdt_obj.programs["on_exact"].attach_usdt(binary, "skelgen", "exact")
    assert "\n" not in str(info.value)


def test_object_without_usdt_maps(
    build_bpf: Callable[[str], Path], target: Path
) -> None:
    with (
        loaded(build_bpf("attach_uprobe")) as obj,
        pytest.raises(AttachError, match=r"include <bpf/usdt\.bpf\.h>") as info,
    ):
        obj.programs["on_add"].attach_usdt(str(target), "skelgen", "exact")
    assert info.value.errno == errno.ESRCH


def test_section_target_must_name_binary_provider_and_probe(
    usdt_obj: BPFObject,
) -> None:
    program = usdt_obj.programs["on_exact"]
    with pytest.raises(
        AttachError, match="does not say where to attach; call attach_usdt"
    ):
        program.attach()  # SEC("usdt"): no target
    program.spec.attach_target = "/usr/bin/python3:python"
    with pytest.raises(AttachError, match="must be usdt/<binary>:<provider>:<name>"):
        program.attach()
