"""Self-test of the libbpf oracle on the CO-RE corpus in tests/bpf/core_*.bpf.c.

Builds vmlinux.h and the corpus into a temporary directory, loads every
object with the system libbpf through libbpf_harness and checks that the
relocated values make sense against the running kernel's BTF, /proc/kallsyms,
the kernel config and the harness process itself.
"""

from __future__ import annotations

import ctypes
import errno
import gzip
import json
import os
import platform
import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from libbpf_oracle import (
    LibbpfResult,
    build_harness,
    compile_bpf,
    datasec_symbols,
    generate_vmlinux_h,
    global_values,
    missing_prerequisites,
    run_libbpf,
    time_open_load,
)

CORPUS_DIR = Path(__file__).resolve().parent.parent / "bpf"
CORPUS = ("core_fields", "core_externs", "core_ksyms")
FIELDS_PROGS = ("core_fields", "core_types", "core_read", "core_subprogs", "core_rawtp")
EXTERNS_PROGS = ("externs_kconfig", "externs_ksyms", "externs_kfuncs", "externs_data")
KSYMS_PROGS = ("ksym_this_cpu", "ksym_per_cpu")
PR_SET_CHILD_SUBREAPER = 36

_missing = missing_prerequisites()
pytestmark = [
    pytest.mark.skipif(bool(_missing), reason=f"missing: {', '.join(_missing)}"),
    pytest.mark.skipif(os.geteuid() != 0, reason="loading BPF programs needs root"),
]


@dataclass(frozen=True)
class Corpus:
    harness: Path
    objects: dict[str, Path]

    def run(self, name: str, run: tuple[str, ...] = (), **kwargs: Any) -> LibbpfResult:
        return run_libbpf(self.objects[name], run, harness=self.harness, **kwargs)


class KernelBtf:
    """The parts of `bpftool -j btf dump` of the running kernel the tests need."""

    def __init__(self, types: list[dict[str, Any]]) -> None:
        self._by_id = {t["id"]: t for t in types}
        self._by_name: dict[tuple[str, str], dict[str, Any]] = {}
        for t in types:
            self._by_name.setdefault((t["kind"], t["name"]), t)

    def type(self, kind: str, name: str) -> dict[str, Any]:
        return self._by_name[(kind, name)]

    def member(self, struct: str, name: str) -> dict[str, Any]:
        for m in self.type("STRUCT", struct)["members"]:
            if m["name"] == name:
                return dict(m)
        raise KeyError(f"{struct}.{name}")

    def offset(self, struct: str, name: str) -> int:
        bits = int(self.member(struct, name)["bits_offset"])
        assert bits % 8 == 0
        return bits // 8

    def member_size(self, struct: str, name: str) -> int:
        return self.size(int(self.member(struct, name)["type_id"]))

    def size(self, type_id: int) -> int:
        t = self._by_id[type_id]
        while "size" not in t:
            if t["kind"] == "ARRAY":
                return int(t["nr_elems"]) * self.size(int(t["type_id"]))
            t = self._by_id[t["type_id"]]
        return int(t["size"])


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    workdir = tmp_path_factory.mktemp("libbpf_oracle")
    include = generate_vmlinux_h(workdir / "include").parent
    objects = {
        name: compile_bpf(CORPUS_DIR / f"{name}.bpf.c", workdir / "obj", [include])
        for name in CORPUS
    }
    return Corpus(build_harness(workdir / "harness"), objects)


@pytest.fixture(scope="module")
def kernel_btf() -> KernelBtf:
    out = subprocess.run(
        ["bpftool", "-j", "btf", "dump", "file", "/sys/kernel/btf/vmlinux"],
        capture_output=True,
        check=True,
    ).stdout
    return KernelBtf(json.loads(out)["types"])


@pytest.fixture(scope="module")
def fields(corpus: Corpus) -> LibbpfResult:
    return corpus.run("core_fields", FIELDS_PROGS, load_only=FIELDS_PROGS)


@pytest.fixture(scope="module")
def externs(corpus: Corpus) -> LibbpfResult:
    return corpus.run("core_externs", EXTERNS_PROGS, load_only=EXTERNS_PROGS)


def u64s(corpus: Corpus, name: str, result: LibbpfResult) -> dict[str, int]:
    values = global_values(corpus.objects[name], result.datasecs)
    return {k: int.from_bytes(v, "little") for k, v in values.items() if len(v) <= 8}


def cstr(corpus: Corpus, name: str, result: LibbpfResult, var: str) -> str:
    raw = global_values(corpus.objects[name], result.datasecs)[var]
    return raw.split(b"\0", 1)[0].decode()


def kallsyms(name: str) -> int:
    """Address of *name* in /proc/kallsyms, 0 when it is not listed."""
    with open("/proc/kallsyms", encoding="ascii", errors="replace") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 3 and parts[2] == name:
                return int(parts[0], 16)
    return 0


def kernel_config() -> Mapping[str, str]:
    """Kernel config the way libbpf finds it: /boot first, then /proc/config.gz."""
    boot = Path(f"/boot/config-{platform.release()}")
    if boot.is_file():
        text = boot.read_text()
    else:
        text = gzip.decompress(Path("/proc/config.gz").read_bytes()).decode()
    config = {}
    for line in text.splitlines():
        m = re.fullmatch(r"(CONFIG_\w+)=(.*)", line)
        if m:
            config[m.group(1)] = m.group(2)
    return config


def expected_kernel_version() -> int:
    """LINUX_KERNEL_VERSION as libbpf computes it."""
    release = platform.release()
    signature = Path("/proc/version_signature")
    if signature.is_file():
        parts = signature.read_text().split()
        if len(parts) >= 3:
            release = parts[2]
    m = re.match(r"(\d+)\.(\d+)\.(\d+)", release)
    assert m, release
    major, minor, patch = (int(g) for g in m.groups())
    return (major << 16) + (minor << 8) + min(patch, 255)


def become_subreaper() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")


# ---- core_fields ---------------------------------------------------------------


def test_fields_load_and_run(fields: LibbpfResult) -> None:
    assert fields.load_ok, fields.stderr
    assert all(p.fd_ok and p.autoload for p in fields.programs.values())
    assert set(fields.programs) == set(FIELDS_PROGS)
    assert fields.programs["core_rawtp"].type == "raw_tracepoint"
    assert fields.programs["core_read"].type == "raw_tracepoint"
    assert fields.run_errors == {}
    assert fields.retvals == {name: 0 for name in FIELDS_PROGS} | {"core_subprogs": 3}
    assert set(fields.datasecs) == {".bss"}


def test_each_fields_program_loads_alone(corpus: Corpus) -> None:
    for prog in FIELDS_PROGS:
        result = corpus.run("core_fields", (prog,), load_only=(prog,))
        assert result.load_ok, result.stderr
        assert {n for n, p in result.programs.items() if p.fd_ok} == {prog}
        assert {n for n, p in result.programs.items() if p.autoload} == {prog}
        assert prog in result.retvals


def test_field_relocations_match_kernel_btf(
    corpus: Corpus, fields: LibbpfResult, kernel_btf: KernelBtf
) -> None:
    v = u64s(corpus, "core_fields", fields)
    btf = kernel_btf
    assert v["off_task_pid"] == btf.offset("task_struct", "pid")
    assert v["off_task_tgid"] == btf.offset("task_struct", "tgid")
    assert v["off_task_comm"] == btf.offset("task_struct", "comm")
    assert v["off_task_se_exec_start"] == btf.offset("task_struct", "se") + btf.offset(
        "sched_entity", "exec_start"
    )
    assert v["off_wide_tgid"] == v["off_task_tgid"]
    assert v["size_task_pid"] == btf.member_size("task_struct", "pid") == 4
    assert v["size_task_comm"] == btf.member_size("task_struct", "comm") == 16
    assert v["size_wide_tgid"] == 4  # declared long locally
    assert (v["exists_task_pid"], v["exists_wide_comm"], v["exists_gone_field"]) == (
        1,
        1,
        0,
    )
    assert v["rawtp_off_pid"] == v["off_task_pid"]


def test_type_and_enum_relocations(
    corpus: Corpus, fields: LibbpfResult, kernel_btf: KernelBtf
) -> None:
    v = u64s(corpus, "core_fields", fields)
    task = kernel_btf.type("STRUCT", "task_struct")
    assert (v["type_exists_task"], v["type_exists_missing"]) == (1, 0)
    assert v["type_size_task"] == task["size"]
    assert v["type_size_missing"] == 0
    assert v["type_id_kernel_task"] == task["id"]
    assert v["type_id_kernel_missing"] == 0
    assert v["type_id_local_task"] > 0
    # clang's BPF target has a signed char while the kernel is built with
    # -funsigned-char (Linux >= 6.2): comm[16] then keeps vmlinux.h's own
    # task_struct from "matching" the kernel's.
    char = kernel_btf.type("INT", "char")
    assert v["type_matches_task"] == int(char["encoding"] == "SIGNED")
    assert v["type_matches_exact"] == 1
    assert v["type_matches_wide"] == 0  # long tgid vs pid_t
    assert v["type_matches_missing"] == 0
    assert v["type_matches_map_type_probe"] == 0  # has an enumerator the kernel lacks
    assert v["type_matches_map_type_subset"] == 1
    assert (v["enum_exists_user_ringbuf"], v["enum_exists_missing"]) == (1, 0)
    assert v["enum_value_user_ringbuf"] == 31
    assert v["enum_value_user_ringbuf_flavor"] == 31
    assert v["enum_value_perf_context_kernel"] == 2**64 - 128  # ENUM64: (u64)-128


def test_core_read_sees_the_calling_task(corpus: Corpus, fields: LibbpfResult) -> None:
    v = u64s(corpus, "core_fields", fields)
    # test runs execute in the context of the harness process, our child
    assert v["cur_pid"] == v["cur_tgid"] == v["cur_pid_direct"] == fields.pid
    assert v["cur_ppid"] == os.getpid()
    assert v["rawtp_pid"] == v["rawtp_tgid"] == fields.pid
    assert v["rawtp_runs"] == 1
    comm = corpus.harness.name[:15]  # TASK_COMM_LEN - 1
    assert cstr(corpus, "core_fields", fields, "cur_comm") == comm
    assert cstr(corpus, "core_fields", fields, "rawtp_comm") == comm
    # the 8-byte load through task_struct___wide was narrowed to the kernel's u32
    assert v["cur_flags_wide"] == v["cur_flags"] != 0
    assert v["cur_ptrace_wide"] == v["cur_ptrace"]


def test_subprogram_relocations(corpus: Corpus, fields: LibbpfResult) -> None:
    v = u64s(corpus, "core_fields", fields)
    assert v["sub_off_task_comm"] == v["off_task_comm"]
    assert v["sub_exists_gone"] == 0
    assert v["sub_tgid"] == fields.pid
    assert v["global_size_task"] == v["type_size_task"]
    assert v["global_enum_value"] == 31
    assert v["global_off_signal"] > 0


def test_bitfields(corpus: Corpus, fields: LibbpfResult, kernel_btf: KernelBtf) -> None:
    v = u64s(corpus, "core_fields", fields)
    member = kernel_btf.member("task_struct", "in_execve")
    bits = member.get("bitfield_size", 0)
    assert v["bf_in_execve_rshift"] == 64 - bits
    # little endian: LSHIFT = 64 - (bit offset inside the loaded word + bit size)
    bit_in_word = member["bits_offset"] - 8 * v["bf_in_execve_byte_off"]
    assert v["bf_in_execve_lshift"] == 64 - bit_in_word - bits
    assert 0 <= bit_in_word < 8 * v["bf_in_execve_byte_size"]
    assert v["bf_in_execve_signed"] == 0
    assert v["bf_in_execve"] == 0
    subreaper = kernel_btf.member("signal_struct", "is_child_subreaper")
    assert v["bf_subreaper_rshift"] == 63
    assert (
        8 * v["bf_subreaper_byte_off"] + 64 - v["bf_subreaper_lshift"] - 1
        == subreaper["bits_offset"]
    )
    assert v["bf_is_child_subreaper"] == v["bf_is_child_subreaper_direct"] == 0


def test_bitfield_read_of_a_set_bit(corpus: Corpus) -> None:
    result = corpus.run(
        "core_fields",
        ("core_read",),
        load_only=("core_read",),
        preexec=become_subreaper,
    )
    assert result.load_ok, result.stderr
    v = u64s(corpus, "core_fields", result)
    assert v["bf_is_child_subreaper"] == v["bf_is_child_subreaper_direct"] == 1


# ---- core_externs --------------------------------------------------------------


def test_externs_load_and_run(externs: LibbpfResult) -> None:
    assert externs.load_ok, externs.stderr
    assert all(p.fd_ok for p in externs.programs.values())
    assert externs.run_errors == {}
    assert externs.retvals == {name: 0 for name in EXTERNS_PROGS} | {"externs_data": 42}
    assert set(externs.datasecs) == {
        ".bss",
        ".data",
        ".rodata",
        ".data.custom",
        ".kconfig",
    }


def test_kconfig_externs(corpus: Corpus, externs: LibbpfResult) -> None:
    v = u64s(corpus, "core_externs", externs)
    config = kernel_config()
    assert v["kver"] == expected_kernel_version() != 0
    assert v["has_bpf_cookie"] == 1
    # libbpf probes for the syscall wrapper by creating a kprobe
    if config.get("CONFIG_KPROBES") != "y":
        assert v["has_syscall_wrapper"] == 0
    assert v["virtual_missing"] == 0
    assert v["cfg_bpf_syscall"] == int(config.get("CONFIG_BPF_SYSCALL") == "y")
    assert v["cfg_smp"] == int(config.get("CONFIG_SMP") == "y")
    assert v["cfg_hz"] == int(config.get("CONFIG_HZ", "0"))
    assert v["cfg_physical_start"] == int(config.get("CONFIG_PHYSICAL_START", "0"), 0)
    tristate = {"y": 1, "m": 2}
    assert v["cfg_preload_umd"] == tristate.get(
        config.get("CONFIG_BPF_PRELOAD_UMD", ""), 0
    )
    assert v["cfg_kprobes"] == tristate.get(config.get("CONFIG_KPROBES", ""), 0)
    assert v["cfg_missing"] == 0
    tcp_cong = config.get("CONFIG_DEFAULT_TCP_CONG", '""').strip('"')
    assert cstr(corpus, "core_externs", externs, "cfg_tcp_cong") == tcp_cong
    # the .kconfig map itself holds the values too
    kconfig = externs.datasecs[".kconfig"]
    assert v["kver"].to_bytes(4, "little") in kconfig
    assert tcp_cong.encode() in kconfig


def test_ksym_externs(corpus: Corpus, externs: LibbpfResult) -> None:
    v = u64s(corpus, "core_externs", externs)
    assert v["ksym_prog_put_addr"] == kallsyms("bpf_prog_put") != 0
    assert v["ksym_prog_fops_addr"] == kallsyms("bpf_prog_fops")
    assert v["ksym_missing_addr"] == 0
    assert v["ksym_missing_typed_addr"] == v["ksym_missing_typed_value"] == 0


def test_kfuncs(corpus: Corpus, externs: LibbpfResult) -> None:
    v = u64s(corpus, "core_externs", externs)
    assert v["kfunc_from_pid_exists"] == 1
    assert v["kfunc_missing_exists"] == v["kfunc_missing_ret"] == 0
    assert v["kfunc_found"] == 1
    assert v["kfunc_task_pid"] == externs.pid
    assert v["kfunc_task_off_pid"] > 0


def test_global_data_sections(corpus: Corpus, externs: LibbpfResult) -> None:
    symbols = datasec_symbols(corpus.objects["core_externs"])
    assert symbols[".data.custom"] == {"custom_counter": (0, 8)}
    v = u64s(corpus, "core_externs", externs)
    assert v["data_marker"] == v["data_seen"] == 0x1122334455667788
    assert v["rodata_knob"] == v["rodata_seen"] == 42
    assert v["custom_counter"] == 8  # 7, incremented once


# ---- core_ksyms ----------------------------------------------------------------


def test_typed_ksyms(corpus: Corpus) -> None:
    """Typed ksyms load only where kallsyms lists per-CPU data (KALLSYMS_ALL)."""
    loadable = kallsyms("runqueues") != 0
    for prog in KSYMS_PROGS:
        result = corpus.run("core_ksyms", (prog,), load_only=(prog,))
        if loadable:
            assert result.load_ok, result.stderr
            assert result.retvals[prog] == 0
        else:
            assert not result.load_ok
            assert (result.errno, result.stage) == (errno.ENOENT, "load")
            assert (
                "failed to find the address for kernel symbol 'runqueues'"
                in result.stderr
            )
            assert result.datasecs == {}
            assert not result.programs[prog].fd_ok


# ---- harness itself -------------------------------------------------------------


def test_harness_is_cached(corpus: Corpus) -> None:
    assert build_harness(corpus.harness.parent) == corpus.harness


def test_unknown_program_run(corpus: Corpus) -> None:
    result = corpus.run("core_fields", ("no_such_prog",))
    assert result.load_ok
    assert result.run_errors == {"no_such_prog": errno.ENOENT}


def test_dump_insns(corpus: Corpus) -> None:
    result = corpus.run("core_fields", dump_insns=True)
    for prog in result.programs.values():
        assert prog.insns is not None
        assert len(prog.insns) == 8 * prog.insn_cnt


def test_time_open_load(corpus: Corpus) -> None:
    mean = time_open_load(corpus.objects["core_fields"], 3, harness=corpus.harness)
    assert mean > 0
