"""Objects of real tracing tools (tests/bpf/tool_*.bpf.c): each program loads here
exactly where libbpf loads it, with libbpf's instructions, and the tools work:
the events they report are the ones this test caused."""

from __future__ import annotations

import os
import socket
import struct
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from libbpf_oracle import run_libbpf
from skelgen_runtime import BPFObject, LoadError
from skelgen_runtime.kernel.kconfig import read_kernel_config
from test_core import assert_same_insns, u64

pytestmark = pytest.mark.usefixtures("root_only")

TOOLS = ("tool_execsnoop", "tool_opensnoop", "tool_runqlat", "tool_tcpstates")
EXEC_EVENT = struct.Struct("<IIIiII16s64s")
OPEN_EVENT = struct.Struct("<QIIii16s256s")
STATE_EVENT = struct.Struct("<QQQIiiHHHH16s16s16sI")
TCP_ESTABLISHED, TCP_SYN_SENT, TCP_CLOSE = 1, 2, 7


def only(obj: BPFObject, *names: str) -> None:
    for program in obj.programs.values():
        program.autoload = program.name in names


def set_global(obj: BPFObject, name: str, raw: bytes, section: str = ".rodata") -> None:
    """Set a global before load, through the section's memory."""
    variable = next(v for v in obj.spec.datasecs[section].variables if v.name == name)
    assert len(raw) == variable.size
    memory = obj.datasec(section)
    data = bytearray(memory.read())
    data[variable.offset : variable.offset + variable.size] = raw
    memory.write(bytes(data))


def events(obj: BPFObject, layout: struct.Struct) -> list[tuple[object, ...]]:
    records = obj.maps["events"].drain(timeout=1.0)
    return [layout.unpack(bytes(r)[: layout.size]) for r in records]


def text(raw: object) -> bytes:
    assert isinstance(raw, bytes)
    return raw.split(b"\0")[0]


@pytest.mark.parametrize("tool", TOOLS)
def test_programs_load_exactly_where_libbpf_loads_them(
    tool: str, build_bpf: Callable[[str], Path]
) -> None:
    path = build_bpf(tool)
    with BPFObject.open(path) as obj:
        names = list(obj.programs)
    for name in names:
        oracle = run_libbpf(path, load_only=[name], dump_insns=True)
        with BPFObject.open(path) as obj:
            only(obj, name)
            if oracle.load_ok:
                obj.load()
                assert_same_insns(obj, oracle)
            else:
                with pytest.raises(LoadError) as caught:
                    obj.load()
                assert caught.value.program == name
                assert caught.value.errno == oracle.errno != 0


def test_execsnoop_reports_the_execs_it_saw(build_bpf: Callable[[str], Path]) -> None:
    path = build_bpf("tool_execsnoop")
    with BPFObject.open(path) as obj:
        set_global(obj, "targ_uid", os.getuid().to_bytes(4, "little"))
        obj.load()
        obj.attach()
        child = subprocess.run(["/bin/true", "one", "two"], check=True)
        assert child.returncode == 0
        with pytest.raises(FileNotFoundError):
            subprocess.run(["/nonexistent/binary"], check=False)
        seen = events(obj, EXEC_EVENT)
        kconfig = obj.spec.datasecs[".kconfig"].variables
        (variable,) = [v for v in kconfig if v.name == "LINUX_KERNEL_VERSION"]
        raw = obj.datasec(".kconfig").read()[variable.offset : variable.offset + 4]
        version = int.from_bytes(raw, "little")
    ours = {text(e[7]): e for e in seen if e[1] == os.getpid()}
    _, ppid, uid, retval, kernel_version, args, comm, _ = ours[b"/bin/true"]
    assert (ppid, uid, retval, args, text(comm)) == (
        os.getpid(),
        os.getuid(),
        0,
        3,
        b"true",
    )
    assert kernel_version == version != 0
    failed = ours[b"/nonexistent/binary"]
    assert failed[3] == -2  # -ENOENT, reported since ignore_failed is false


def test_opensnoop_reports_this_process_only(build_bpf: Callable[[str], Path]) -> None:
    path = build_bpf("tool_opensnoop")
    with BPFObject.open(path) as obj:
        set_global(obj, "targ_tgid", os.getpid().to_bytes(4, "little"))
        obj.load()
        obj.attach()
        with tempfile.NamedTemporaryFile(prefix="opensnoop-") as existing:
            fd = os.open(existing.name, os.O_RDONLY | os.O_CLOEXEC)
            os.close(fd)
            missing = existing.name + ".missing"
            with pytest.raises(FileNotFoundError):
                os.open(missing, os.O_RDONLY)
            seen = events(obj, OPEN_EVENT)
    assert {e[1] for e in seen} == {os.getpid()}
    by_name = {text(e[6]): e for e in seen}
    opened = by_name[existing.name.encode()]
    assert opened[3] == fd and opened[4] & os.O_CLOEXEC
    assert by_name[missing.encode()][3] == -2


@pytest.mark.parametrize(
    "variant",
    [
        ("sched_wakeup", "sched_wakeup_new", "sched_switch"),
        ("handle_sched_wakeup", "handle_sched_wakeup_new", "handle_sched_switch"),
    ],
    ids=["tp_btf", "raw_tp"],
)
def test_runqlat_counts_run_queue_waits(
    variant: tuple[str, ...], build_bpf: Callable[[str], Path]
) -> None:
    path = build_bpf("tool_runqlat")
    with BPFObject.open(path) as obj:
        only(obj, *variant)
        obj.load()
        obj.attach()
        wake = threading.Event()
        for _ in range(20):  # wake another thread up, again and again
            thread = threading.Thread(target=wake.wait)
            thread.start()
            time.sleep(0.001)
            wake.set()
            thread.join()
            wake.clear()
        assert u64(obj, path, "samples") > 0
        config = {"y": 1}.get(kernel_config("CONFIG_SCHED_INFO"), 0)
        assert u64(obj, path, "sched_info") == config


def kernel_config(name: str) -> str:
    for line in read_kernel_config().splitlines():
        if line.startswith(f"{name}="):
            return line.partition("=")[2]
    return ""


def test_tcpstates_follows_a_connection(build_bpf: Callable[[str], Path]) -> None:
    path = build_bpf("tool_tcpstates")
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        with BPFObject.open(path) as obj:
            only(obj, "handle_set_state")  # the fentry variant: see the load test
            set_global(obj, "target_port", port.to_bytes(2, "little"))
            obj.load()
            obj.attach()
            with socket.create_connection(("127.0.0.1", port)) as client:
                accepted, _ = server.accept()
                accepted.close()
                client_port = client.getsockname()[1]
            seen = events(obj, STATE_EVENT)
    # the client's socket: towards the server's port (no source port yet when
    # it enters SYN_SENT)
    client_changes = [(e[4], e[5]) for e in seen if e[8] == port]
    assert client_changes[:2] == [
        (TCP_CLOSE, TCP_SYN_SENT),
        (TCP_SYN_SENT, TCP_ESTABLISHED),
    ]
    assert {e[7] for e in seen if e[8] == port} == {0, client_port}
    for event in seen:
        assert event[8] == port or event[7] == port
        if event[5] == TCP_ESTABLISHED:  # skc_num, read through CO-RE: the sport
            assert event[9] == event[7] != 0
        assert event[13] == 0  # the guarded read of a field no kernel has
