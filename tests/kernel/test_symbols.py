"""Symbols and bpf_printk on the kernel: stacks a real program took, turned into the
function names of a test binary (a PIE, built here with frame pointers) and of the
kernel; a bpf_printk line read back from trace_pipe."""

from __future__ import annotations

import os
import random
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from attach_support import loaded, read_global
from skelgen_runtime import (
    BPFObject,
    KernelSymbols,
    StackTraceMap,
    TracePipe,
    UserSymbols,
    ksym,
    sym,
)

pytestmark = pytest.mark.usefixtures("root_only")
TARGET_SOURCE = Path(__file__).with_name("symbols_target.c")


@pytest.fixture(scope="module")
def target(
    build_c: Callable[..., Path], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    out = tmp_path_factory.mktemp("symbols") / "symbols_target"
    return build_c(TARGET_SOURCE, out, "-fno-omit-frame-pointer")


@pytest.fixture
def target_process(target: Path) -> Iterator[subprocess.Popen[str]]:
    """The target, waiting on stdin before it makes its calls."""
    proc = subprocess.Popen(
        [str(target)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    yield proc
    if proc.poll() is None:
        proc.kill()
    proc.communicate()


def stack(obj: BPFObject, variable: str) -> list[int]:
    stack_id = read_global(obj, variable, signed=True)
    assert stack_id >= 0, f"bpf_get_stackid() failed: {stack_id}"
    stacks = obj.maps["stacks"]
    assert isinstance(stacks, StackTraceMap)
    return stacks.walk(stack_id)


def test_a_user_stack_is_symbolized_to_the_functions_of_a_pie(
    build_bpf: Callable[[str], Path],
    target: Path,
    target_process: subprocess.Popen[str],
) -> None:
    assert target.read_bytes()[16] == 3  # ET_DYN: a PIE, loaded at a random address
    pid = target_process.pid
    with loaded(build_bpf("symbols"), target_tgid=pid) as obj:
        obj.programs["on_middle_return"].attach_uprobe(
            str(target), "skelgen_middle", pid=pid, retprobe=True
        )
        symbols = UserSymbols(pid)  # while the process lives
        out, _ = target_process.communicate("go\n", timeout=10)
        assert out == f"{(5 * 2 + 1) * 3 + 1 - 2}\n"
        addresses = stack(obj, "user_stack_id")
    # The uretprobe fires as skelgen_middle returns: the stack starts in its caller.
    names = [symbols.name(a) for a in addresses]
    assert names[:2] == ["skelgen_outer", "main"], names
    first = symbols.lookup(addresses[0])
    assert first is not None and first.module == str(target)
    assert 0 < first.offset < 64
    assert symbols.name(addresses[1], offset=True, module=True).startswith(
        "main+0x"
    ) and symbols.name(addresses[1], module=True).endswith(" [symbols_target]")
    assert any(
        "libc" in symbols.name(a, module=True) for a in addresses[2:]
    ), "main's caller is in libc"


def test_sym_reads_a_live_process(build_bpf: Callable[[str], Path]) -> None:
    """sym() on this process: a function of libc, found through its exported symbol."""
    import ctypes

    libc = ctypes.CDLL(None)
    getpid = ctypes.cast(libc.getpid, ctypes.c_void_p).value
    assert getpid is not None
    assert sym(getpid, os.getpid(), module=True) == "getpid [libc.so.6]"
    assert sym(getpid + 1, os.getpid(), offset=True) == "getpid+0x1"


def test_a_kernel_stack_is_symbolized_to_the_syscall_path(
    build_bpf: Callable[[str], Path],
) -> None:
    with loaded(build_bpf("symbols"), target_tgid=os.getpid()) as obj:
        with obj.programs["on_sys_enter"].attach_raw_tracepoint("sys_enter"):
            os.getppid()
        addresses = stack(obj, "kernel_stack_id")
    names = [ksym(a) for a in addresses]
    assert "[unknown]" not in names, names
    assert "do_syscall_64" in names, names
    kernel = KernelSymbols()
    entry = kernel.address("do_syscall_64")
    assert entry is not None
    frame = addresses[names.index("do_syscall_64")]
    assert kernel.name(frame, offset=True) == f"do_syscall_64+{frame - entry:#x}"
    assert kernel.name(frame, module=True) == "do_syscall_64 [kernel]"


def test_a_bpf_printk_line_is_read_back(build_bpf: Callable[[str], Path]) -> None:
    cookie = random.getrandbits(63)
    tgid = os.getpid()
    with (
        TracePipe(timeout=2.0) as pipe,
        loaded(build_bpf("symbols"), target_tgid=tgid, cookie=cookie) as obj,
    ):
        with obj.programs["printk_getppid"].attach_tracepoint(
            "syscalls", "sys_enter_getppid"
        ):
            os.getppid()
        # Other programs on the machine may write to the trace buffer too.
        mine = [e for e in pipe if f"cookie={cookie}" in e.message]
    assert len(mine) == 1, mine
    event = mine[0]
    assert event.message == f"skelgen-printk tgid={tgid} cookie={cookie}"
    assert event.pid == tgid  # the main thread made the call
    assert event.function == "bpf_trace_printk"
    assert event.timestamp > 0
