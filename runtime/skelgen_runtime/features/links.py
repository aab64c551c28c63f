"""Which kinds of BPF link the running kernel can make, probed when first asked
and remembered.

Each probe creates a link with a deliberately bad target: a kernel that knows the
link type fails on the target (EBADF, ENODEV, EFAULT), one that does not fails on
the type (EINVAL) — libbpf's ``probe_perf_link`` and ``probe_uprobe_multi_link``,
and the same idea for the others.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import os

from ..sys import attr as a, commands as cmd
from ..uapi.bpf import AttachType, ProgType
from .programs import load_probe_program

_NO_FD = 0xFFFF_FFFF  # -1 in the kernel's u32


def _link_errno(
    prog_type: ProgType,
    attach_type: AttachType,
    target: int,
    tail: ctypes.Structure | None = None,
    load_attach_type: int = 0,
) -> int:
    """The errno of a link create that must fail; 0 if it unexpectedly succeeds,
    -1 if even the probe program does not load."""
    try:
        prog_fd = load_probe_program(prog_type, expected_attach_type=load_attach_type)
    except OSError:
        return -1
    try:
        os.close(cmd.link_create(prog_fd, target, attach_type, 0, tail))
    except OSError as exc:
        return exc.errno or 0
    finally:
        os.close(prog_fd)
    return 0


@functools.cache
def has_perf_link() -> bool:
    """``BPF_LINK_CREATE`` on perf events (5.15); without it a program goes on a
    perf event with ``PERF_EVENT_IOC_SET_BPF``."""
    code = _link_errno(ProgType.TRACEPOINT, AttachType.PERF_EVENT, _NO_FD)
    return code == errno.EBADF


@functools.cache
def has_kprobe_multi() -> bool:
    """kprobe.multi links (5.18, and CONFIG_FPROBE): a NULL symbol name faults."""
    names = (ctypes.c_uint64 * 1)(0)
    tail = a.KprobeMultiLinkTail(cnt=1, syms=ctypes.addressof(names))
    code = _link_errno(
        ProgType.KPROBE,
        AttachType.TRACE_KPROBE_MULTI,
        0,
        tail,
        AttachType.TRACE_KPROBE_MULTI,
    )
    return code == errno.EFAULT


@functools.cache
def has_uprobe_multi() -> bool:
    """uprobe.multi links (6.6): a directory as the binary is EBADF."""
    path = ctypes.create_string_buffer(b"/")
    offsets = (ctypes.c_uint64 * 1)(0)
    tail = a.UprobeMultiLinkTail(
        path=ctypes.addressof(path), offsets=ctypes.addressof(offsets), cnt=1
    )
    code = _link_errno(
        ProgType.KPROBE,
        AttachType.TRACE_UPROBE_MULTI,
        0,
        tail,
        AttachType.TRACE_UPROBE_MULTI,
    )
    return code == errno.EBADF


def _device_link(attach_type: AttachType) -> bool:
    """tcx and netkit links: no device has index 0."""
    return _link_errno(ProgType.SCHED_CLS, attach_type, 0) == errno.ENODEV


@functools.cache
def has_tcx_links() -> bool:
    """tc programs attach through tcx links (6.6); else through netlink."""
    return _device_link(AttachType.TCX_INGRESS)


@functools.cache
def has_netkit() -> bool:
    return _device_link(AttachType.NETKIT_PRIMARY)


@functools.cache
def has_sockmap_link() -> bool:
    """sk_msg and sk_skb programs as links on a sockmap (6.10)."""
    code = _link_errno(
        ProgType.SK_MSG,
        AttachType.SK_MSG_VERDICT,
        _NO_FD,
        load_attach_type=AttachType.SK_MSG_VERDICT,
    )
    return code == errno.EBADF
