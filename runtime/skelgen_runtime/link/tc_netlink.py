"""tc programs the way kernels before tcx links (6.6) take them, as libbpf's
``bpf_tc_hook_create`` and ``bpf_tc_attach`` do: a ``clsact`` qdisc on the interface
and a ``cls_bpf`` filter in direct-action mode under its ingress or egress hook, made
through rtnetlink.  Detaching deletes the filter, and the qdisc once no link of this
process needs it, if this process made it (one found in place is left alone)."""

from __future__ import annotations

import errno
import functools
import os
import threading
from collections.abc import Callable

from ..sys import netlink as nl
from .attaching import AttachableProgram, attaching
from .link import Link

TC_H_CLSACT = 0xFFFFFFF1
TC_H_MIN_INGRESS = 0xFFF2
TC_H_MIN_EGRESS = 0xFFF3
_CLSACT_HANDLE = TC_H_CLSACT & 0xFFFF0000
_ETH_P_ALL_BE = 0x0300  # htons(ETH_P_ALL)
TCA_BPF_FD = 6
TCA_BPF_NAME = 7
TCA_BPF_FLAGS = 8
TCA_BPF_FLAG_ACT_DIRECT = 1
# What deleting something already gone answers (the interface or qdisc went first).
_GONE = (errno.ENOENT, errno.ENODEV, errno.EINVAL)

# (network namespace inode, ifindex) -> links of this process on a clsact qdisc that
# this process made there.
_qdisc_users: dict[tuple[int, int], int] = {}
_qdisc_lock = threading.Lock()


def _netns_inode() -> int:
    """The network namespace of the calling thread (interface indexes are per
    namespace, and a thread may have entered another one)."""
    return os.stat("/proc/thread-self/ns/net").st_ino


def _clsact(sock: nl.RouteSocket, msg_type: int, ifindex: int, flags: int) -> None:
    sock.tc_request(
        msg_type,
        flags,
        nl.TcMessage(ifindex, handle=_CLSACT_HANDLE, parent=TC_H_CLSACT),
        nl.string_attribute(nl.TCA_KIND, "clsact"),
    )


def _use_qdisc(sock: nl.RouteSocket, key: tuple[int, int]) -> bool:
    """Make sure a clsact qdisc is on the interface; True when it is one this process
    made (and so must delete once its last link is gone)."""
    with _qdisc_lock:
        if key in _qdisc_users:
            _qdisc_users[key] += 1
            return True
        try:
            _clsact(sock, nl.RTM_NEWQDISC, key[1], nl.NLM_F_CREATE | nl.NLM_F_EXCL)
        except FileExistsError:
            return False
        _qdisc_users[key] = 1
        return True


def _release_qdisc(sock: nl.RouteSocket, key: tuple[int, int]) -> None:
    with _qdisc_lock:
        _qdisc_users[key] -= 1
        if _qdisc_users[key]:
            return
        del _qdisc_users[key]
        _ignore_gone(_clsact, sock, nl.RTM_DELQDISC, key[1], 0)


def _ignore_gone(step: Callable[..., object], *args: object) -> None:
    try:
        step(*args)
    except OSError as exc:
        if exc.errno not in _GONE:
            raise


def attach_tc_netlink(
    program: AttachableProgram, ifindex: int, interface: str, direction: str
) -> Link:
    """``program`` as a direct-action cls_bpf filter on ``ifindex``'s ``direction``
    (``"ingress"`` or ``"egress"``) hook of a clsact qdisc."""
    kind = f"tc {direction}"
    minor = TC_H_MIN_INGRESS if direction == "ingress" else TC_H_MIN_EGRESS
    parent = (TC_H_CLSACT & 0xFFFF0000) | minor
    with attaching(program, kind, interface):
        sock = nl.RouteSocket()
    try:
        with attaching(program, kind, interface):
            key = (_netns_inode(), ifindex)
            ours = _use_qdisc(sock, key)
            try:
                options = nl.nested(
                    nl.TCA_OPTIONS,
                    nl.u32_attribute(TCA_BPF_FD, program.fd),
                    nl.string_attribute(TCA_BPF_NAME, program.name),
                    nl.u32_attribute(TCA_BPF_FLAGS, TCA_BPF_FLAG_ACT_DIRECT),
                )
                # Handle and priority 0: the kernel picks both, and echoes them.
                echoed = sock.tc_request(
                    nl.RTM_NEWTFILTER,
                    nl.NLM_F_CREATE | nl.NLM_F_EXCL | nl.NLM_F_ECHO,
                    nl.TcMessage(ifindex, parent=parent, info=_ETH_P_ALL_BE),
                    nl.string_attribute(nl.TCA_KIND, "bpf"),
                    options,
                )
                if not echoed:
                    raise OSError(errno.EPROTO, "the kernel did not echo the filter")
            except BaseException:
                if ours:
                    _release_qdisc(sock, key)
                raise
    except BaseException:
        sock.close()
        raise
    made = echoed[0]
    filter_id = nl.TcMessage(
        ifindex,
        handle=made.handle,
        parent=parent,
        info=(made.info & 0xFFFF0000) | _ETH_P_ALL_BE,
    )

    def delete_filter() -> None:
        _ignore_gone(
            sock.tc_request,
            nl.RTM_DELTFILTER,
            0,
            filter_id,
            nl.string_attribute(nl.TCA_KIND, "bpf"),
        )

    release = [delete_filter]
    if ours:
        release.append(functools.partial(_release_qdisc, sock, key))
    release.append(sock.close)
    return Link(None, program.name, kind, interface, release=release)
