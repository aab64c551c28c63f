"""Links and their lifecycle against the kernel: rollback of a failed object attach,
pinning, dropped links, and detach/destroy releasing every fd.  "Attached" is judged
by effect: the test's own getppid() calls counted, or not, by the program."""

from __future__ import annotations

import errno
import gc
import os
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from attach_support import loaded, read_global, wait_for
from conftest import open_fds
from ptrace.syscall.names import SYSCALL_NAMES
from skelgen_runtime import AttachError, BPFObject, Link
from skelgen_runtime.features import links as link_features
from skelgen_runtime.link.link import IterLink
from skelgen_runtime.sys import commands as cmd

pytestmark = pytest.mark.usefixtures("root_only")
GETPPID = {name: nr for nr, name in SYSCALL_NAMES.items()}["getppid"]
BPFFS = "/sys/fs/bpf"


@pytest.fixture
def trace_obj(build_bpf: Callable[[str], Path]) -> Iterator[BPFObject]:
    with loaded(
        build_bpf("attach_trace"), target_tgid=os.getpid(), getppid_nr=GETPPID
    ) as obj:
        yield obj


def raw_count_after_calls(obj: BPFObject, calls: int = 1) -> int:
    for _ in range(calls):
        os.getppid()
    return read_global(obj, "raw_count")


def test_failed_attach_rolls_back_what_it_attached(
    build_bpf: Callable[[str], Path],
) -> None:
    with loaded(build_bpf("attach_rollback"), target_tgid=os.getpid()) as obj:
        assert list(obj.programs) == ["good", "bad"]  # good is attached first
        before = open_fds()
        with pytest.raises(AttachError) as info:
            obj.attach()
        message = str(info.value)
        assert message.startswith(
            "attach bad (tracepoint skelgen_no_such_category/no_such_event): ENOENT"
        )
        assert info.value.program == "bad" and info.value.errno == errno.ENOENT
        assert obj.links == {} and obj.programs["good"].links == []
        assert open_fds() == before
        os.getppid()
        assert read_global(obj, "good_count") == 0  # good is detached again
        # The failing program alone can be left out, and the rest attaches.
        obj.programs["bad"].autoattach = False
        assert set(obj.attach()) == {"good"}
        os.getppid()
        assert read_global(obj, "good_count") == 1


def test_dropped_links_stay_attached_until_the_object_detaches(
    trace_obj: BPFObject,
) -> None:
    program = trace_obj.programs["raw_sys_enter"]
    before = open_fds()
    program.attach_raw_tracepoint("sys_enter")  # dropped at once
    gc.collect()
    assert raw_count_after_calls(trace_obj) == 1  # still attached
    assert len(program.links) == 1 and len(open_fds() - before) == 1
    trace_obj.detach()
    assert raw_count_after_calls(trace_obj) == 1
    assert open_fds() == before


def test_destroy_releases_manual_links_and_links_put_in_links(
    trace_obj: BPFObject,
) -> None:
    before = open_fds()
    kept = trace_obj.programs["raw_sys_enter"].attach_raw_tracepoint("sys_enter")
    trace_obj.programs["tp_getppid"].attach_tracepoint("syscalls", "sys_enter_getppid")
    trace_obj.links["btf_sys_enter"] = trace_obj.programs[
        "btf_sys_enter"
    ].attach_trace()
    # raw_tp link; tracepoint link + perf fd (the perf fd alone without perf links);
    # tp_btf link
    assert len(open_fds() - before) == (4 if link_features.has_perf_link() else 3)
    os.getppid()
    trace_obj.destroy()
    assert not kept.attached
    with pytest.raises(AttachError, match="detached"):
        kept.fd  # noqa: B018
    assert not (open_fds() - before)
    kept.detach()  # harmless after destroy


def test_pin_survives_detach_and_from_pinned_reopens(trace_obj: BPFObject) -> None:
    path = f"{BPFFS}/skelgen-test-link-{os.getpid()}"
    link = trace_obj.programs["raw_sys_enter"].attach_raw_tracepoint("sys_enter")
    link.pin(path)
    try:
        link.detach()  # closes our fd; the pin keeps the attachment
        assert raw_count_after_calls(trace_obj) == 1
        reopened = Link.from_pinned(path)
        assert (reopened.kind, reopened.target) == ("raw_tracepoint", path)
        assert reopened.program.startswith("prog id ")
        reopened.unpin()
        assert not os.path.exists(path)
        assert raw_count_after_calls(trace_obj) == 2  # our fd still holds it
        trace_obj.links["raw_sys_enter"] = reopened  # owned by the object from now on
        trace_obj.detach()
        assert not reopened.attached
        # The pin's reference may go later than the unlink: after an RCU grace
        # period, and on 5.10 in a work item.  Then nothing counts any more.
        assert wait_for(  # the count before a call equals the one after it
            lambda: read_global(trace_obj, "raw_count")
            == raw_count_after_calls(trace_obj)
        )
        settled = read_global(trace_obj, "raw_count")
        assert raw_count_after_calls(trace_obj, 3) == settled
    finally:
        if os.path.exists(path):
            os.unlink(path)


def test_pinned_iterator_reopens_as_an_iterator(
    build_bpf: Callable[[str], Path],
) -> None:
    path = f"{BPFFS}/skelgen-test-iter-{os.getpid()}"
    with loaded(build_bpf("attach_misc"), without=["dump_numbers"]) as obj:
        with obj.programs["dump_task"].attach_iter() as link:
            link.pin(path)
        try:
            with Link.from_pinned(path) as reopened:
                assert isinstance(reopened, IterLink) and reopened.kind == "iter"
                assert f"{os.getpid()} {os.getpid()} " in reopened.read_text()
                with open(path) as f:  # the kernel runs a pinned iterator on read(2)
                    assert f"{os.getpid()} {os.getpid()} " in f.read()
        finally:
            os.unlink(path)


def test_link_errors_are_one_line(trace_obj: BPFObject, tmp_path: Path) -> None:
    before = open_fds()
    with pytest.raises(
        AttachError, match=r"open pinned link /sys/fs/bpf/skelgen-none: ENOENT"
    ):
        Link.from_pinned(f"{BPFFS}/skelgen-none")
    map_path = f"{BPFFS}/skelgen-test-map-{os.getpid()}"
    cmd.obj_pin(trace_obj.maps[next(iter(trace_obj.maps))].fd, map_path)
    try:
        with pytest.raises(AttachError, match="is not a link"):
            Link.from_pinned(map_path)
    finally:
        os.unlink(map_path)
    with trace_obj.programs["raw_sys_enter"].attach_raw_tracepoint("sys_enter") as link:
        with pytest.raises(AttachError, match=r"pin link of raw_sys_enter at .*: E"):
            link.pin(str(tmp_path / "not-bpffs"))
        with pytest.raises(AttachError, match="not pinned"):
            link.unpin()
        with pytest.raises(AttachError, match=r"update link .* to tp_getppid: EINVAL"):
            link.update(trace_obj.programs["tp_getppid"])
    assert open_fds() == before


def test_socket_attachment_is_not_a_bpf_link(build_bpf: Callable[[str], Path]) -> None:
    with (
        loaded(build_bpf("attach_net")) as obj,
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock,
    ):
        link = obj.programs["keep_pass"].attach_socket(sock)
        with pytest.raises(
            AttachError, match="socket attachment of keep_pass is not a BPF"
        ):
            link.pin(f"{BPFFS}/skelgen-none")
        assert "attached" in repr(link)
        link.detach()
        assert "detached" in repr(link)
