"""Tests for skelgen_runtime.sections: libbpf's section table and matching."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from skelgen_runtime.obj.sections import SECTION_DEFS, AttachKind, find_section_def
from skelgen_runtime.uapi.bpf import AttachType, ProgType

UAPI_BPF_H = Path("/usr/include/linux/bpf.h")

# (section name, prog type, expected attach type, sleepable, attach kind, target)
LOOKUPS = [
    (
        "tp/syscalls/sys_enter_getpid",
        ProgType.TRACEPOINT,
        None,
        False,
        AttachKind.TRACEPOINT,
        "syscalls/sys_enter_getpid",
    ),
    (
        "tracepoint/sched/sched_switch",
        ProgType.TRACEPOINT,
        None,
        False,
        AttachKind.TRACEPOINT,
        "sched/sched_switch",
    ),
    (
        "raw_tp/sys_enter",
        ProgType.RAW_TRACEPOINT,
        None,
        False,
        AttachKind.RAW_TRACEPOINT,
        "sys_enter",
    ),
    (
        "raw_tp.w/bpf_test_finish",
        ProgType.RAW_TRACEPOINT_WRITABLE,
        None,
        False,
        AttachKind.RAW_TRACEPOINT,
        "bpf_test_finish",
    ),
    (
        "tp_btf/sched_switch",
        ProgType.TRACING,
        AttachType.TRACE_RAW_TP,
        False,
        AttachKind.TRACING,
        "sched_switch",
    ),
    (
        "fentry/do_sys_open",
        ProgType.TRACING,
        AttachType.TRACE_FENTRY,
        False,
        AttachKind.TRACING,
        "do_sys_open",
    ),
    (
        "fentry.s/do_sys_open",
        ProgType.TRACING,
        AttachType.TRACE_FENTRY,
        True,
        AttachKind.TRACING,
        "do_sys_open",
    ),
    (
        "fexit/vfs_read",
        ProgType.TRACING,
        AttachType.TRACE_FEXIT,
        False,
        AttachKind.TRACING,
        "vfs_read",
    ),
    (
        "fmod_ret/bpf_modify_return_test",
        ProgType.TRACING,
        AttachType.MODIFY_RETURN,
        False,
        AttachKind.TRACING,
        "bpf_modify_return_test",
    ),
    (
        "fsession/vfs_read",
        ProgType.TRACING,
        AttachType.TRACE_FSESSION,
        False,
        AttachKind.TRACING,
        "vfs_read",
    ),
    (
        "fsession.s/vfs_read",
        ProgType.TRACING,
        AttachType.TRACE_FSESSION,
        True,
        AttachKind.TRACING,
        "vfs_read",
    ),
    ("freplace/handler", ProgType.EXT, None, False, AttachKind.TRACING, "handler"),
    (
        "lsm/file_open",
        ProgType.LSM,
        AttachType.LSM_MAC,
        False,
        AttachKind.LSM,
        "file_open",
    ),
    (
        "lsm.s/bprm_committed_creds",
        ProgType.LSM,
        AttachType.LSM_MAC,
        True,
        AttachKind.LSM,
        "bprm_committed_creds",
    ),
    (
        "lsm_cgroup/socket_bind",
        ProgType.LSM,
        AttachType.LSM_CGROUP,
        False,
        AttachKind.CGROUP,
        "socket_bind",
    ),
    (
        "iter/task",
        ProgType.TRACING,
        AttachType.TRACE_ITER,
        False,
        AttachKind.ITER,
        "task",
    ),
    (
        "iter.s/task_file",
        ProgType.TRACING,
        AttachType.TRACE_ITER,
        True,
        AttachKind.ITER,
        "task_file",
    ),
    (
        "kprobe/do_unlinkat",
        ProgType.KPROBE,
        None,
        False,
        AttachKind.KPROBE,
        "do_unlinkat",
    ),
    (
        "kretprobe/do_unlinkat",
        ProgType.KPROBE,
        None,
        False,
        AttachKind.KPROBE,
        "do_unlinkat",
    ),
    ("kprobe", ProgType.KPROBE, None, False, AttachKind.KPROBE, ""),
    (
        "kprobe.multi/tcp_*",
        ProgType.KPROBE,
        AttachType.TRACE_KPROBE_MULTI,
        False,
        AttachKind.KPROBE_MULTI,
        "tcp_*",
    ),
    (
        "kprobe.session/bpf_fentry_test*",
        ProgType.KPROBE,
        AttachType.TRACE_KPROBE_SESSION,
        False,
        AttachKind.KPROBE_MULTI,
        "bpf_fentry_test*",
    ),
    (
        "ksyscall/openat",
        ProgType.KPROBE,
        None,
        False,
        AttachKind.KSYSCALL,
        "openat",
    ),
    (
        "uprobe//bin/true:main",
        ProgType.KPROBE,
        None,
        False,
        AttachKind.UPROBE,
        "/bin/true:main",
    ),
    (
        "uretprobe.s//usr/lib/libc.so.6:malloc",
        ProgType.KPROBE,
        None,
        True,
        AttachKind.UPROBE,
        "/usr/lib/libc.so.6:malloc",
    ),
    (
        "uprobe.multi//bin/bash:readline*",
        ProgType.KPROBE,
        AttachType.TRACE_UPROBE_MULTI,
        False,
        AttachKind.UPROBE_MULTI,
        "/bin/bash:readline*",
    ),
    (
        "uprobe.session.s//bin/true:main",
        ProgType.KPROBE,
        AttachType.TRACE_UPROBE_SESSION,
        True,
        AttachKind.UPROBE_MULTI,
        "/bin/true:main",
    ),
    (
        "usdt/./prog:provider:probe",
        ProgType.KPROBE,
        None,
        False,
        AttachKind.USDT,
        "./prog:provider:probe",
    ),
    ("xdp", ProgType.XDP, AttachType.XDP, False, AttachKind.XDP, ""),
    ("xdp.frags", ProgType.XDP, AttachType.XDP, False, AttachKind.XDP, ""),
    (
        "xdp.frags/devmap",
        ProgType.XDP,
        AttachType.XDP_DEVMAP,
        False,
        AttachKind.NONE,
        "",
    ),
    ("xdp/cpumap", ProgType.XDP, AttachType.XDP_CPUMAP, False, AttachKind.NONE, ""),
    (
        "cgroup_skb/egress",
        ProgType.CGROUP_SKB,
        AttachType.CGROUP_INET_EGRESS,
        False,
        AttachKind.CGROUP,
        "",
    ),
    ("cgroup/skb", ProgType.CGROUP_SKB, None, False, AttachKind.CGROUP, ""),
    (
        "cgroup/sock",
        ProgType.CGROUP_SOCK,
        AttachType.CGROUP_INET_SOCK_CREATE,
        False,
        AttachKind.CGROUP,
        "",
    ),
    (
        "cgroup/connect4",
        ProgType.CGROUP_SOCK_ADDR,
        AttachType.CGROUP_INET4_CONNECT,
        False,
        AttachKind.CGROUP,
        "",
    ),
    (
        "cgroup/getsockname_unix",
        ProgType.CGROUP_SOCK_ADDR,
        AttachType.CGROUP_UNIX_GETSOCKNAME,
        False,
        AttachKind.CGROUP,
        "",
    ),
    (
        "sockops",
        ProgType.SOCK_OPS,
        AttachType.CGROUP_SOCK_OPS,
        False,
        AttachKind.CGROUP,
        "",
    ),
    (
        "tcx/ingress",
        ProgType.SCHED_CLS,
        AttachType.TCX_INGRESS,
        False,
        AttachKind.TCX,
        "",
    ),
    ("tc/egress", ProgType.SCHED_CLS, AttachType.TCX_EGRESS, False, AttachKind.TCX, ""),
    ("tc", ProgType.SCHED_CLS, None, False, AttachKind.TC, ""),
    ("action", ProgType.SCHED_ACT, None, False, AttachKind.TC, ""),
    (
        "netkit/peer",
        ProgType.SCHED_CLS,
        AttachType.NETKIT_PEER,
        False,
        AttachKind.NETKIT,
        "",
    ),
    ("syscall", ProgType.SYSCALL, None, True, AttachKind.SYSCALL, ""),
    ("socket", ProgType.SOCKET_FILTER, None, False, AttachKind.SOCKET, ""),
    (
        "sk_reuseport/migrate",
        ProgType.SK_REUSEPORT,
        AttachType.SK_REUSEPORT_SELECT_OR_MIGRATE,
        False,
        AttachKind.SOCKET,
        "",
    ),
    (
        "sk_lookup",
        ProgType.SK_LOOKUP,
        AttachType.SK_LOOKUP,
        False,
        AttachKind.SK_LOOKUP,
        "",
    ),
    (
        "sk_skb/stream_verdict",
        ProgType.SK_SKB,
        AttachType.SK_SKB_STREAM_VERDICT,
        False,
        AttachKind.SK_SKB,
        "",
    ),
    (
        "sk_msg",
        ProgType.SK_MSG,
        AttachType.SK_MSG_VERDICT,
        False,
        AttachKind.SK_MSG,
        "",
    ),
    (
        "struct_ops/dctcp_init",
        ProgType.STRUCT_OPS,
        None,
        False,
        AttachKind.STRUCT_OPS,
        "dctcp_init",
    ),
    (
        "struct_ops.s/test_1",
        ProgType.STRUCT_OPS,
        None,
        True,
        AttachKind.STRUCT_OPS,
        "test_1",
    ),
    (
        "netfilter",
        ProgType.NETFILTER,
        AttachType.NETFILTER,
        False,
        AttachKind.NETFILTER,
        "",
    ),
    ("perf_event", ProgType.PERF_EVENT, None, False, AttachKind.PERF_EVENT, ""),
    ("lwt_xmit", ProgType.LWT_XMIT, None, False, AttachKind.NONE, ""),
]


@pytest.mark.parametrize(
    ("name", "prog_type", "attach_type", "sleepable", "kind", "target"), LOOKUPS
)
def test_lookup(
    name: str,
    prog_type: ProgType,
    attach_type: AttachType | None,
    sleepable: bool,
    kind: AttachKind,
    target: str,
) -> None:
    found = find_section_def(name)
    assert found is not None
    assert found.section == name
    assert found.prog_type is prog_type
    assert found.expected_attach_type is attach_type
    assert found.sleepable is sleepable
    assert found.attach_kind is kind
    assert found.target == target


@pytest.mark.parametrize(
    "name",
    [
        "",
        ".text",
        "license",
        ".maps",
        ".BTF",
        "foo",
        # "+" prefixes need the exact name or a "/" right after it.
        "tpfoo/x",
        "kprobefoo",
        "fentry.x/foo",
        "kprobe.multi.s/foo",
        # Names without "+" match only exactly.
        "xdpfoo",
        "xdp/",
        "xdp/foo",
        "tc/foo",
        "socket/1",
        "syscall/x",
        "cgroup/sock_createx",
    ],
)
def test_unknown_sections(name: str) -> None:
    assert find_section_def(name) is None


def test_first_match_wins() -> None:
    # "tp_btf" must not be read as "tp" with a target.
    tp_btf = find_section_def("tp_btf/sys_enter")
    assert tp_btf is not None and tp_btf.definition.prefix == "tp_btf+"
    devmap = find_section_def("xdp.frags/devmap")
    assert devmap is not None and devmap.definition.prefix == "xdp.frags/devmap"
    frags = find_section_def("xdp.frags")
    assert frags is not None and frags.definition.prefix == "xdp.frags"


def test_flags() -> None:
    fentry = find_section_def("fentry/foo")
    assert fentry is not None and fentry.definition.attach_btf
    kprobe = find_section_def("kprobe/foo")
    assert kprobe is not None and not kprobe.definition.attach_btf
    usdt = find_section_def("usdt.s/x:p:n")
    assert usdt is not None and usdt.sleepable


def test_auto_attach() -> None:
    auto = {d.prefix for d in SECTION_DEFS if d.auto_attach}
    assert {"kprobe+", "tp+", "fentry+", "lsm+", "iter+", "usdt+"} <= auto
    assert not auto & {"xdp", "tcx/ingress", "cgroup_skb/egress", "lsm_cgroup+"}


def test_every_definition_is_reachable() -> None:
    prefixes = [d.prefix for d in SECTION_DEFS]
    assert len(prefixes) == len(set(prefixes))
    # No row may be shadowed by an earlier one.
    for definition in SECTION_DEFS:
        found = find_section_def(definition.prefix.removesuffix("+"))
        assert found is not None and found.definition is definition


def test_enum_numbering_is_dense() -> None:
    # The uapi enums have no explicit values, so ours must count up from 0.
    assert [int(t) for t in ProgType] == list(range(len(ProgType)))
    assert [int(t) for t in AttachType] == list(range(len(AttachType)))
    assert ProgType.NETFILTER.value == 32
    assert AttachType.TRACE_UPROBE_SESSION.value == 57
    assert AttachType.TRACE_FSESSION.value == 58  # libbpf 1.7


def _uapi_enum_names(header: str, enum_name: str, prefix: str) -> list[str]:
    body = re.search(rf"enum {enum_name} \{{(.*?)\}};", header, re.DOTALL)
    assert body is not None
    return re.findall(rf"^\s*({prefix}[A-Z0-9_]+)", body.group(1), re.MULTILINE)


def test_values_match_installed_uapi_header(tmp_path: Path) -> None:
    """Let the C compiler evaluate the installed header as an oracle."""
    gcc = shutil.which("gcc")
    if gcc is None or not UAPI_BPF_H.exists():
        pytest.skip("needs gcc and the uapi linux/bpf.h")
    header = UAPI_BPF_H.read_text()
    prog_names = _uapi_enum_names(header, "bpf_prog_type", "BPF_PROG_TYPE_")
    attach_names = _uapi_enum_names(header, "bpf_attach_type", "BPF_")
    # The installed header may be older than ours, never newer in a way we miss.
    assert len(prog_names) <= len(ProgType)
    assert len(attach_names) <= len(AttachType)
    assert "BPF_PROG_TYPE_SYSCALL" in prog_names and "BPF_TRACE_ITER" in attach_names

    names = prog_names + attach_names
    source = tmp_path / "enums.c"
    source.write_text(
        "#include <stdio.h>\n#include <linux/bpf.h>\nint main(void) {\n"
        + "".join(f'    printf("%d\\n", (int){n});\n' for n in names)
        + "    return 0;\n}\n"
    )
    binary = tmp_path / "enums"
    subprocess.run([gcc, "-o", str(binary), str(source)], check=True)
    output = subprocess.run(
        [str(binary)], check=True, capture_output=True, text=True
    ).stdout
    c_values = dict(zip(names, map(int, output.split()), strict=True))

    for name in prog_names:
        member = ProgType[name.removeprefix("BPF_PROG_TYPE_")]
        assert member.value == c_values[name], name
    for name in attach_names:
        assert AttachType[name.removeprefix("BPF_")].value == c_values[name], name
