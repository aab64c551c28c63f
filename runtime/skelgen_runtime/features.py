"""What the running kernel can do, probed when first asked and remembered.

Each probe is the one libbpf makes (a tiny BTF blob or program the kernel accepts
only if it has the feature), so the answers are libbpf's answers.
"""

from __future__ import annotations

import ctypes
import functools
import os

from . import attach, probes
from .btf import codec
from .btf import types as t
from .btf.sanitize import BtfFeature
from .sections import ProgType
from .sys import attr as a
from .sys import commands as cmd

BPF_FUNC_GET_ATTACH_COOKIE = 174
_INT = t.Int("int", 4, t.IntEncoding.SIGNED, 0, 32)
_INT_ANON = t.Int("", 4, t.IntEncoding.SIGNED, 0, 32)

# libbpf's probe BTF per feature (types after void; ids count from 1).
PROBE_TYPES: dict[BtfFeature, list[t.BtfType]] = {
    BtfFeature.FUNC: [
        _INT,
        t.FuncProto("", 0, [t.Param("a", 1)]),
        t.Func("x", 2, t.FuncLinkage.STATIC),
    ],
    BtfFeature.GLOBAL_FUNC: [
        _INT,
        t.FuncProto("", 0, [t.Param("a", 1)]),
        t.Func("x", 2, t.FuncLinkage.GLOBAL),
    ],
    BtfFeature.DATASEC: [
        _INT_ANON,
        t.Var("x", 1, t.VarLinkage.STATIC),
        t.Datasec(".data", 4, [t.VarSecinfo(2, 0, 4)]),
    ],
    BtfFeature.FLOAT: [t.Float("float", 4)],
    BtfFeature.DECL_TAG: [
        _INT_ANON,
        t.Var("x", 1, t.VarLinkage.STATIC),
        t.DeclTag("tag", 2, -1),
    ],
    BtfFeature.TYPE_TAG: [_INT_ANON, t.TypeTag("tag", 1), t.Ptr("", 2)],
    BtfFeature.ENUM64: [t.Enum("enum64", 8, [], is64=True)],
}


def probe_blob(feature: BtfFeature) -> bytes:
    return codec.encode(PROBE_TYPES[feature], codec.StringTable())


@functools.cache
def has_btf_feature(feature: BtfFeature) -> bool:
    try:
        os.close(cmd.btf_load(probe_blob(feature)))
    except OSError:
        return False
    return True


def missing_btf_features() -> frozenset[BtfFeature]:
    return frozenset(f for f in BtfFeature if not has_btf_feature(f))


@functools.cache
def has_bpf_cookie() -> bool:
    """``bpf_get_attach_cookie()`` exists (``LINUX_HAS_BPF_COOKIE``)."""
    # call get_attach_cookie; exit
    insns = bytes([0x85, 0, 0, 0]) + BPF_FUNC_GET_ATTACH_COOKIE.to_bytes(4, "little")
    insns += bytes([0x95]) + bytes(7)
    code = ctypes.create_string_buffer(insns, len(insns))
    license_buf = ctypes.create_string_buffer(b"GPL")
    attr = a.ProgLoadAttr(
        prog_type=ProgType.KPROBE,
        insns=ctypes.addressof(code),
        insn_cnt=len(insns) // 8,
        license=ctypes.addressof(license_buf),
    )
    try:
        os.close(cmd.prog_load(attr))
    except OSError:
        return False
    return True


@functools.cache
def has_syscall_wrapper() -> bool:
    """System calls go through ``__<arch>_sys_*`` wrappers that a kprobe can hook
    (``LINUX_HAS_SYSCALL_WRAPPER``): libbpf tries a kprobe on ``__<arch>_sys_bpf``,
    so a kernel without kprobes says no."""
    function = attach.syscall_function("bpf")
    if not function.startswith("__"):
        return False
    try:
        event = probes.open_kprobe(function)
    except OSError:
        return False
    os.close(event.perf_fd)
    if event.remove is not None:
        event.remove()
    return True
