"""uprobes and uretprobes against the kernel: a function of a test binary built here by
gcc (attached by hand, per process or for all), and libc's getppid() attached from the
section name with the library found by name."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from attach_support import loaded, read_global
from conftest import open_fds
from skelgen_runtime import AttachError, BPFObject
from skelgen_runtime.features import links as link_features
from skelgen_runtime.kernel.probes import tracefs_root
from skelgen_runtime.link.binaries import function_offset

pytestmark = pytest.mark.usefixtures("root_only")
TARGET_SOURCE = Path(__file__).with_name("uprobe_target.c")
FUNCTION = "skelgen_target_add"


@pytest.fixture(scope="module")
def target(
    build_c: Callable[..., Path], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    return build_c(TARGET_SOURCE, tmp_path_factory.mktemp("uprobe") / "uprobe_target")


@pytest.fixture
def uprobe_obj(build_bpf: Callable[[str], Path]) -> Iterator[BPFObject]:
    with loaded(build_bpf("attach_uprobe"), target_tgid=os.getpid()) as obj:
        yield obj


def start(target: Path, a: int, b: int, n: int) -> subprocess.Popen[str]:
    """The target, waiting on stdin before it calls the function ``n`` times."""
    return subprocess.Popen(
        [str(target), str(a), str(b), str(n)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def finish(proc: subprocess.Popen[str]) -> int:
    out, _ = proc.communicate("go\n", timeout=10)
    assert proc.returncode == 0
    return int(out)


def add_probe(obj: BPFObject) -> dict[str, int]:
    names = ("add_calls", "add_a", "add_b", "add_tgid", "add_ret_calls", "add_ret")
    return {name: read_global(obj, name, signed=True) for name in names}


@pytest.mark.parametrize("legacy", [False, True], ids=["pmu", "tracefs"])
def test_uprobe_and_uretprobe_see_arguments_and_return_value(
    uprobe_obj: BPFObject, target: Path, legacy: bool
) -> None:
    proc = start(target, 5, 100, 4)
    entry = uprobe_obj.programs["on_add"].attach_uprobe(
        str(target), FUNCTION, pid=proc.pid, legacy=legacy
    )
    ret = uprobe_obj.programs["on_add_ret"].attach_uprobe(
        str(target), FUNCTION, pid=proc.pid, retprobe=True, legacy=legacy
    )
    events = Path(tracefs_root(), "uprobe_events")
    if legacy:  # the tracefs events exist while attached
        assert events.read_text().count(str(target)) == 2
    assert finish(proc) == sum(2 * (5 + i) + 100 for i in range(4))
    # last call: skelgen_target_add(5 + 3, 100) = 116
    assert add_probe(uprobe_obj) == {
        "add_calls": 4,
        "add_a": 8,
        "add_b": 100,
        "add_tgid": proc.pid,
        "add_ret_calls": 4,
        "add_ret": 116,
    }
    entry.detach()
    ret.detach()
    assert str(target) not in events.read_text()  # and are removed on detach
    assert finish(start(target, 1, 1, 3)) == 2 + 4 + 6 + 3
    assert read_global(uprobe_obj, "add_calls") == 4


def test_pid_filter_and_all_processes(uprobe_obj: BPFObject, target: Path) -> None:
    first, second = start(target, 1, 0, 2), start(target, 1, 0, 3)
    with uprobe_obj.programs["on_add"].attach_uprobe(
        str(target), FUNCTION, pid=second.pid
    ):
        finish(first)
        finish(second)
    assert read_global(uprobe_obj, "add_calls") == 3
    assert read_global(uprobe_obj, "add_tgid") == second.pid
    with uprobe_obj.programs["on_add"].attach_uprobe(
        str(target), FUNCTION
    ):  # pid -1: all
        finish(start(target, 1, 0, 2))
        finish(start(target, 1, 0, 5))
    assert read_global(uprobe_obj, "add_calls") == 3 + 2 + 5


def second_instruction(binary: Path, function: str) -> int:
    """How far into ``function`` its second instruction starts, as objdump decodes it."""
    text = subprocess.run(
        ["objdump", "-d", f"--disassemble={function}", str(binary)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    addresses = [
        int(line.split(":")[0], 16)
        for line in text.splitlines()
        if line.startswith("    ") and ":" in line
    ]
    return addresses[1] - addresses[0]


def test_file_offset_and_function_plus_offset(
    uprobe_obj: BPFObject, target: Path
) -> None:
    offset = function_offset(str(target), FUNCTION)
    with uprobe_obj.programs["on_add"].attach_uprobe(str(target), offset) as link:
        assert link.target == f"{target}:{offset}"
        finish(start(target, 3, 4, 2))
    assert add_probe(uprobe_obj)["add_calls"] == 2
    assert add_probe(uprobe_obj)["add_a"] == 4
    delta = second_instruction(target, FUNCTION)
    with uprobe_obj.programs["on_add"].attach_uprobe(
        str(target), f"{FUNCTION}+{delta:#x}"
    ):
        finish(start(target, 3, 4, 5))
    assert add_probe(uprobe_obj)["add_calls"] == 2 + 5


UPROBE_MULTI_LACKING = (
    "uprobe.multi links need Linux 6.6+ built with CONFIG_UPROBES "
    "(BPF_TRACE_UPROBE_MULTI); this kernel lacks them"
)


def test_auto_attach_on_a_library_found_by_name(uprobe_obj: BPFObject) -> None:
    multi = link_features.has_uprobe_multi()
    if not multi:  # the whole attach() fails, naming the feature, and leaves nothing
        before = open_fds()
        with pytest.raises(AttachError) as info:
            uprobe_obj.attach()
        assert str(info.value) == (
            f"attach on_libc_multi (uprobe.multi libc.so.6:getppi?): "
            f"{UPROBE_MULTI_LACKING}"
        )
        assert open_fds() == before
        uprobe_obj.programs["on_libc_multi"].autoattach = False
    links = uprobe_obj.attach()
    # the sections without a target are skipped
    assert set(links) == {"on_libc_getppid", "on_libc_getppid_ret"} | (
        {"on_libc_multi"} if multi else set()
    )
    assert links["on_libc_getppid"].target == "libc.so.6:getppid"
    if multi:
        assert (links["on_libc_multi"].kind, links["on_libc_multi"].target) == (
            "uprobe.multi",
            "libc.so.6:getppi?",
        )
    ppid = [os.getppid() for _ in range(3)][-1]
    assert read_global(uprobe_obj, "libc_calls") == 3
    assert read_global(uprobe_obj, "libc_ret_calls") == 3
    assert read_global(uprobe_obj, "libc_ret", signed=True) == ppid
    assert read_global(uprobe_obj, "multi_calls") == (3 if multi else 0)


def test_multi_uprobes_by_pattern_and_by_list(
    uprobe_obj: BPFObject, target: Path
) -> None:
    programs = uprobe_obj.programs
    if not link_features.has_uprobe_multi():  # as a probe decides
        before = open_fds()
        with pytest.raises(AttachError) as info:
            programs["on_many"].attach_uprobe_multi(str(target), "skelgen_target_*")
        assert str(info.value) == (
            f"attach on_many (uprobe.multi {target}:skelgen_target_*): "
            f"{UPROBE_MULTI_LACKING}"
        )
        assert open_fds() == before
        return
    proc = start(target, 2, 10, 3)
    entry = programs["on_many"].attach_uprobe_multi(
        str(target), "skelgen_target_*", pid=proc.pid
    )
    ret = programs["on_many_ret"].attach_uprobe_multi(
        str(target), [FUNCTION, function_offset(str(target), "skelgen_target_neg")]
    )
    assert (entry.kind, ret.kind) == ("uprobe.multi", "uretprobe.multi")
    total = finish(proc)
    assert read_global(uprobe_obj, "multi_calls") == 3 + 2  # three adds, two negations
    assert read_global(uprobe_obj, "multi_ret_calls") == 5
    assert (
        read_global(uprobe_obj, "multi_ret_sum", signed=True) == total
    )  # negs return 0
    entry.detach()
    ret.detach()
    finish(start(target, 2, 10, 3))
    assert read_global(uprobe_obj, "multi_calls") == 5
    with pytest.raises(AttachError, match=r"no function matching 'skelgen_none_\*'"):
        programs["on_many"].attach_uprobe_multi(str(target), "skelgen_none_*")
    with pytest.raises(AttachError, match=r"section 'uprobe': only uprobe.multi"):
        programs["on_add"].attach_uprobe_multi(str(target), "skelgen_target_*")


def test_bad_uprobe_targets_are_one_line_errors(
    uprobe_obj: BPFObject, target: Path
) -> None:
    program = uprobe_obj.programs["on_add"]
    before = open_fds()
    with pytest.raises(AttachError) as info:
        program.attach_uprobe(str(target), "skelgen_no_such_function")
    assert str(info.value).startswith(
        f"attach on_add (uprobe {target}:skelgen_no_such_function)"
    )
    assert "no function 'skelgen_no_such_function'" in str(info.value)
    with pytest.raises(
        AttachError, match=r"libskelgen-none\.so.*not found in LD_LIBRARY_PATH"
    ):
        program.attach_uprobe("libskelgen-none.so", "f")
    with pytest.raises(
        AttachError, match=r"does not say where to attach; call attach_uprobe"
    ):
        program.attach()
    with pytest.raises(AttachError) as info:
        program.attach_uprobe(
            str(target), 1 << 40
        )  # an offset past the end of the file
    assert "EINVAL" in str(info.value) and "\n" not in str(info.value)
    assert open_fds() == before
