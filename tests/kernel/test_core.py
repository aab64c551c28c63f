"""CO-RE and externs against libbpf: the corpus in tests/bpf/core_*.bpf.c.

Each object is loaded by skelgen_runtime and by libbpf (tests/oracle); the programs
run once in each; the global data must then hold identical bytes, except values
that belong to the process that ran them (pid, comm...), which are checked
against that process instead.  The instructions each program went to the kernel
with must be libbpf's too, map fds aside.
"""

from __future__ import annotations

import ctypes
import errno
import os
import shutil
import struct
import subprocess
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest
from conftest import open_fds, require
from libbpf_oracle import LibbpfResult, datasec_symbols, run_libbpf
from skelgen_runtime import BPFObject, LoadError
from skelgen_runtime.btf import Btf, codec, types as bt
from skelgen_runtime.btf.core import POISON_IMM
from skelgen_runtime.btf.sanitize import BtfFeature, sanitize
from skelgen_runtime.features import btf as btf_features, programs as program_features
from skelgen_runtime.kernel import btf as kernel_btf
from skelgen_runtime.sys import attr as bpf_attr, commands as cmd
from skelgen_runtime.uapi.bpf import PSEUDO_MAP_FD, PSEUDO_MAP_VALUE, ProgType

pytestmark = pytest.mark.usefixtures("root_only")

FIELDS_PROGS = ("core_fields", "core_types", "core_read", "core_subprogs", "core_rawtp")
EXTERNS_PROGS = ("externs_kconfig", "externs_ksyms", "externs_kfuncs", "externs_data")
KSYMS_PROGS = ("ksym_this_cpu", "ksym_per_cpu")
RAW_TP_ARGS = bytes(8 * 12)  # what the libbpf harness passes to a raw_tp test run
BPF_FUNC_GET_CURRENT_TASK_BTF = 158
TASK_BTF_PROGS = ("core_read", "core_subprogs")  # SEC("?raw_tp"): loaded when asked
KFUNC_PROGS = ("externs_kfuncs",)  # SEC("?syscall")

# Globals that hold facts about the process that ran the program.
FIELDS_PER_PROCESS = {
    "cur_pid",
    "cur_tgid",
    "cur_ppid",
    "cur_pid_direct",
    "cur_flags",
    "cur_flags_wide",
    "cur_comm",
    "rawtp_pid",
    "rawtp_tgid",
    "rawtp_comm",
    "sub_tgid",
}
EXTERNS_PER_PROCESS = {"kfunc_task_pid"}


def fields_programs() -> tuple[str, ...]:
    """The programs of core_fields.bpf.c this kernel can load (a probe decides):
    some call bpf_get_current_task_btf() (5.11)."""
    if program_features.has_helper(
        ProgType.RAW_TRACEPOINT, BPF_FUNC_GET_CURRENT_TASK_BTF
    ):
        return FIELDS_PROGS
    return tuple(name for name in FIELDS_PROGS if name not in TASK_BTF_PROGS)


def externs_programs() -> tuple[str, ...]:
    """The programs of core_externs.bpf.c this kernel can load (probes decide):
    externs_kfuncs is a syscall program (5.14) calling bpf_task_from_pid(), a
    kfunc (6.2) that libbpf leaves poisoned where the kernel's BTF lacks it."""
    if program_features.has_prog_type(ProgType.SYSCALL) and (
        kernel_btf.load_btf_file().find("bpf_task_from_pid", bt.Func)
    ):
        return EXTERNS_PROGS
    return tuple(name for name in EXTERNS_PROGS if name not in KFUNC_PROGS)


def load_only(obj: BPFObject, names: Iterable[str]) -> BPFObject:
    """Autoload on for ``names`` and off for the others, as the libbpf harness's
    --load-only-prog."""
    wanted = set(names)
    for program in obj.programs.values():
        program.autoload = program.name in wanted
    return obj


def run_all(obj: BPFObject, names: Iterable[str]) -> dict[str, int]:
    """Test-run each program once, as the libbpf harness does."""
    out = {}
    for name in names:
        program = obj.programs[name]
        if program.section.startswith(("raw_tp", "raw_tracepoint")):
            # the kernel takes no ctx_out for raw_tp runs: call it directly
            args = ctypes.create_string_buffer(RAW_TP_ARGS, len(RAW_TP_ARGS))
            attr = bpf_attr.TestRunAttr(
                prog_fd=program.fd,
                ctx_size_in=len(RAW_TP_ARGS),
                ctx_in=ctypes.addressof(args),
            )
            cmd.prog_test_run(attr)
            out[name] = attr.retval
        else:
            out[name] = program.test_run().retval
    return out


def differing_globals(
    path: Path, obj: BPFObject, oracle: LibbpfResult, sections: Iterable[str]
) -> set[str]:
    """Names of the globals whose bytes differ between ours and libbpf's."""
    symbols = datasec_symbols(path)
    differ = set()
    for section in sections:
        ours, theirs = obj.datasec(section).read(), oracle.datasecs[section]
        assert len(ours) == len(theirs), section
        for name, (offset, size) in symbols.get(section, {}).items():
            if ours[offset : offset + size] != theirs[offset : offset + size]:
                differ.add(name)
        if section not in symbols:  # .kconfig: no ELF symbols, compare whole
            assert ours == theirs, section
    return differ


def normalized_insns(insns: bytes) -> bytes:
    """Instructions with map fds zeroed (each process numbers its fds)."""
    out = bytearray(insns)
    i = 0
    while i < len(out) // 8:
        code, regs = out[8 * i], out[8 * i + 1]
        if code == 0x18:
            if regs >> 4 in (PSEUDO_MAP_FD, PSEUDO_MAP_VALUE):
                struct.pack_into("<i", out, 8 * i + 4, 0)
            i += 1
        i += 1
    return bytes(out)


def assert_same_insns(obj: BPFObject, oracle: LibbpfResult) -> None:
    assert obj._loader is not None
    loaded = obj._loader.program_insns
    compared = 0
    for name, info in oracle.programs.items():
        if info.insns is None or not info.fd_ok:
            continue
        assert normalized_insns(loaded[name]) == normalized_insns(info.insns), name
        compared += 1
    assert compared == len(loaded)


def u64(obj: BPFObject, path: Path, name: str, section: str = ".bss") -> int:
    offset, size = datasec_symbols(path)[section][name]
    raw = obj.datasec(section).read()[offset : offset + size]
    return int.from_bytes(raw, "little")


def cstr(obj: BPFObject, path: Path, name: str) -> bytes:
    offset, size = datasec_symbols(path)[".bss"][name]
    return obj.datasec(".bss").read()[offset : offset + size].split(b"\0")[0]


def own_comm() -> bytes:
    with open("/proc/self/comm", "rb") as f:
        return f.read().strip()


# -- core_fields ------------------------------------------------------------------


@pytest.fixture(scope="module")
def fields_path(build_bpf: Callable[[str], Path]) -> Path:
    return build_bpf("core_fields")


@pytest.fixture(scope="module")
def fields_oracle(fields_path: Path) -> LibbpfResult:
    programs = fields_programs()
    return run_libbpf(fields_path, programs, load_only=programs, dump_insns=True)


def test_field_type_and_enum_relocations_equal_libbpfs(
    fields_path: Path, fields_oracle: LibbpfResult
) -> None:
    programs = fields_programs()
    with load_only(BPFObject.open(fields_path), programs) as obj:
        obj.load()
        assert run_all(obj, programs) == fields_oracle.retvals
        assert differing_globals(fields_path, obj, fields_oracle, [".bss"]) <= (
            FIELDS_PER_PROCESS
        )
        assert_same_insns(obj, fields_oracle)
        # what belongs to the process: this one ran the programs here
        for name in ("rawtp_pid", "sub_tgid"):
            assert u64(obj, fields_path, name) == os.getpid(), name
        assert cstr(obj, fields_path, "rawtp_comm") == own_comm()
        if "core_read" not in programs:
            return
        for name in ("cur_pid", "cur_tgid", "cur_pid_direct"):
            assert u64(obj, fields_path, name) == os.getpid(), name
        assert u64(obj, fields_path, "cur_ppid") == os.getppid()
        assert cstr(obj, fields_path, "cur_comm") == own_comm()
        flags = u64(obj, fields_path, "cur_flags")
        assert flags == u64(obj, fields_path, "cur_flags_wide") != 0  # narrowed load


def test_each_program_alone_loads_where_libbpf_does(fields_path: Path) -> None:
    for name in FIELDS_PROGS:
        oracle = run_libbpf(fields_path, load_only=[name], dump_insns=True)
        with load_only(BPFObject.open(fields_path), [name]) as obj:
            if name not in fields_programs():  # the kernel lacks the helper
                assert not oracle.load_ok
                with pytest.raises(LoadError) as caught:
                    obj.load()
                unknown = f"unknown#{BPF_FUNC_GET_CURRENT_TASK_BTF}"
                assert unknown in caught.value.log and unknown in oracle.stderr
                continue
            obj.load()
            assert oracle.fd_ok(name)
            assert obj.programs[name].loaded
            assert_same_insns(obj, oracle)


def test_a_kernel_without_the_types(fields_path: Path, tmp_path: Path) -> None:
    """A user-supplied BTF with no task_struct and no bpf_map_type: existence
    checks say 0, and the unconditional enum value is poisoned, which the
    verifier refuses because the poisoned call is reachable."""
    tiny = tmp_path / "tiny.btf"
    tiny.write_bytes(
        codec.encode(
            [bt.Int("int", 4, bt.IntEncoding.SIGNED, 0, 32)], codec.StringTable()
        )
    )
    with BPFObject.open(fields_path, btf_custom_path=str(tiny)) as obj:
        for program in obj.programs.values():
            program.autoload = program.name == "core_types"
        with pytest.raises(LoadError) as caught:
            obj.load()
        assert caught.value.program == "core_types"
        assert f"unknown#{POISON_IMM}" in caught.value.log


@pytest.mark.parametrize("form", ["raw", "elf"])
def test_a_copy_of_the_kernel_btf_relocates_the_same(
    form: str, fields_path: Path, fields_oracle: LibbpfResult, tmp_path: Path
) -> None:
    """btf_custom_path: raw BTF (as BTFHub ships it) or an ELF file with .BTF."""
    copy = tmp_path / "vmlinux.btf"
    shutil.copyfile("/sys/kernel/btf/vmlinux", copy)
    if form == "elf":
        objcopy = shutil.which("objcopy")
        require(objcopy is not None, "objcopy (binutils) is not installed")
        assert objcopy is not None
        elf = tmp_path / "vmlinux.elf"
        wrap = ["-I", "binary", "-O", "elf64-x86-64", "--rename-section", ".data=.BTF"]
        subprocess.run([objcopy, *wrap, str(copy), str(elf)], check=True)
        copy = elf
    with BPFObject.open(fields_path, btf_custom_path=str(copy)) as obj:
        load_only(obj, fields_programs()).load()
        assert_same_insns(obj, fields_oracle)


def test_no_fd_is_left_behind(fields_path: Path) -> None:
    before = open_fds()
    with BPFObject.open(fields_path) as obj:
        obj.load()
    assert open_fds() == before


# -- core_externs -----------------------------------------------------------------


@pytest.fixture(scope="module")
def externs_path(build_bpf: Callable[[str], Path]) -> Path:
    return build_bpf("core_externs")


@pytest.fixture(scope="module")
def externs_oracle(externs_path: Path) -> LibbpfResult:
    programs = externs_programs()
    return run_libbpf(externs_path, programs, load_only=programs, dump_insns=True)


def test_externs_equal_libbpfs(
    externs_path: Path, externs_oracle: LibbpfResult
) -> None:
    programs = externs_programs()
    with load_only(BPFObject.open(externs_path), programs) as obj:
        assert obj.spec.datasecs[".kconfig"].variables  # exposed like .rodata
        obj.load()
        assert run_all(obj, programs) == externs_oracle.retvals
        sections = list(externs_oracle.datasecs)
        assert set(sections) == {".bss", ".data", ".rodata", ".data.custom", ".kconfig"}
        assert differing_globals(externs_path, obj, externs_oracle, sections) <= (
            EXTERNS_PER_PROCESS
        )
        if "externs_kfuncs" in programs:
            assert u64(obj, externs_path, "kfunc_task_pid") == os.getpid()
        assert_same_insns(obj, externs_oracle)
        kconfig = obj.datasec(".kconfig")
        assert kconfig.kernel_backed and kconfig.readonly  # frozen, like .rodata


def test_kconfig_option_overrides_the_kernel_config(externs_path: Path) -> None:
    overrides = {
        "CONFIG_HZ": 100,
        "CONFIG_DEFAULT_TCP_CONG": '"cubic"',
        "CONFIG_SMP": False,
    }
    with BPFObject.open(externs_path, kconfig=overrides) as obj:
        obj.load()
        run_all(obj, ["externs_kconfig"])
        assert u64(obj, externs_path, "cfg_hz") == 100
        assert cstr(obj, externs_path, "cfg_tcp_cong") == b"cubic"
        assert u64(obj, externs_path, "cfg_smp") == 0
        assert u64(obj, externs_path, "cfg_bpf_syscall") == 1  # still the kernel's


def test_kconfig_values_must_suit_their_type(externs_path: Path) -> None:
    before = open_fds()
    obj = BPFObject.open(externs_path, kconfig={"CONFIG_SMP": "m"})
    with obj, pytest.raises(LoadError, match="CONFIG_SMP"):
        obj.load()
    assert open_fds() == before


def test_feature_probes_agree_with_libbpf(
    externs_path: Path, externs_oracle: LibbpfResult
) -> None:
    # The kernel releases that brought each BTF kind: an oracle apart from the probes.
    release = tuple(int(part) for part in os.uname().release.split(".")[:2])
    introduced = {
        BtfFeature.FUNC: (5, 0),
        BtfFeature.DATASEC: (5, 2),
        BtfFeature.GLOBAL_FUNC: (5, 6),
        BtfFeature.FLOAT: (5, 13),
        BtfFeature.DECL_TAG: (5, 16),
        BtfFeature.TYPE_TAG: (5, 17),
        BtfFeature.ENUM64: (6, 0),
    }
    missing = btf_features.missing_btf_features()
    assert missing - {BtfFeature.QMARK_DATASEC} == {
        feature for feature, since in introduced.items() if release < since
    }
    assert program_features.has_bpf_cookie() == (release >= (5, 15))
    # libbpf's LINUX_HAS_SYSCALL_WRAPPER, as stored in its .kconfig map
    with BPFObject.open(externs_path) as obj:
        wrapper = obj.spec.externs["LINUX_HAS_SYSCALL_WRAPPER"]
    kconfig = externs_oracle.datasecs[".kconfig"]
    assert kconfig[wrapper.offset] == program_features.has_syscall_wrapper()


def test_sanitised_btf_loads_on_this_kernel(externs_path: Path) -> None:
    """With BTF features declared missing, the rewritten BTF still loads.

    Not FUNC: its stand-in (an ENUM per FUNC_PROTO, enumerators named after the
    parameters) suits the kernels that lack FUNC, while today's refuses nameless
    enumerators.
    """
    with BPFObject.open(externs_path) as obj:
        btf: Btf = obj.spec.btf
        blob = sanitize(btf, frozenset(BtfFeature) - {BtfFeature.FUNC}).encode()
    os.close(cmd.btf_load(blob))


# -- core_ksyms -------------------------------------------------------------------


def test_typed_ksyms_fail_exactly_where_libbpf_fails(
    build_bpf: Callable[[str], Path],
) -> None:
    path = build_bpf("core_ksyms")
    if not kernel_btf.load_btf_file().find("runqueues", bt.Var):
        # A kernel BTF without per-CPU variables (5.10 as Debian builds it): the
        # typed ksym cannot resolve, for libbpf either.
        assert not run_libbpf(path, KSYMS_PROGS, load_only=KSYMS_PROGS).load_ok
        with BPFObject.open(path) as obj, pytest.raises(LoadError) as caught:
            obj.load()
        assert str(caught.value) == (
            "extern (ksym) 'runqueues' is not resolved: not in the kernel's BTF"
        )
        assert caught.value.errno == errno.ESRCH
        return
    for name in KSYMS_PROGS:
        oracle = run_libbpf(path, [name], load_only=[name])
        with BPFObject.open(path) as obj:
            for program in obj.programs.values():
                program.autoload = program.name == name
            if oracle.load_ok:
                obj.load()
                assert run_all(obj, [name]) == oracle.retvals
                continue
            with pytest.raises(LoadError) as caught:
                obj.load()
            assert caught.value.errno == oracle.errno == errno.ENOENT
            message = "failed to find the address for kernel symbol 'runqueues'"
            assert message in caught.value.log and message in oracle.stderr


# -- kernel BTF -------------------------------------------------------------------


def test_kernel_btf_decoded_lazily_is_the_kernel_btf(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SKELGEN_CACHE_DIR", str(tmp_path / "cache"))
    copy = tmp_path / "vmlinux"
    shutil.copyfile("/sys/kernel/btf/vmlinux", copy)
    lazy = kernel_btf.load_btf_file(str(copy))
    (stored,) = (tmp_path / "cache").iterdir()  # the index, keyed by content
    eager = Btf.from_bytes(copy.read_bytes())
    assert len(lazy) == len(eager) > 50_000  # 5.10 has 83 000 types, 7.x 160 000
    for type_id in range(1, len(eager), 97):
        assert lazy[type_id] == eager[type_id], type_id
    for name in ("task_struct", "bpf_map_type", "sched_switch", "pid_t", "rq"):
        assert lazy.find(name) == eager.find(name)
    # a damaged index file is noticed and rebuilt
    stored.write_bytes(stored.read_bytes()[:-8] + bytes(8))
    os.utime(copy, ns=(1, 1))  # a new stat: not the copy this process has
    again = kernel_btf.load_btf_file(str(copy))
    assert again is not lazy
    assert again.find("task_struct") == eager.find("task_struct")
