"""What programs can do on the running kernel (helpers, hooks), probed when first
asked and remembered, with the probes libbpf makes."""

from __future__ import annotations

import ctypes
import functools
import os

from ..kernel import probes
from ..sys import attr as a, commands as cmd
from ..uapi.bpf import AttachType, ProgFlag, ProgType

BPF_FUNC_GET_ATTACH_COOKIE = 174
_RETURN_ZERO = bytes([0xB7, 0, 0, 0, 0, 0, 0, 0]) + bytes([0x95]) + bytes(7)
# What a type's probe program must say besides its type, as libbpf's probes say it.
_PROBE_ATTACH_TYPES = {ProgType.NETFILTER: AttachType.NETFILTER}
_PROBE_FLAGS = {ProgType.SYSCALL: ProgFlag.SLEEPABLE}


def load_trivial(prog_type: ProgType) -> int:
    """``r0 = 0; exit`` as a program of ``prog_type``; its fd (OSError if refused)."""
    code = ctypes.create_string_buffer(_RETURN_ZERO, len(_RETURN_ZERO))
    license_buf = ctypes.create_string_buffer(b"GPL")
    attr = a.ProgLoadAttr(
        prog_type=prog_type,
        insns=ctypes.addressof(code),
        insn_cnt=len(_RETURN_ZERO) // 8,
        license=ctypes.addressof(license_buf),
        expected_attach_type=_PROBE_ATTACH_TYPES.get(prog_type, 0),
        prog_flags=_PROBE_FLAGS.get(prog_type, 0),
    )
    return cmd.prog_load(attr)


@functools.cache
def has_program_type(prog_type: ProgType) -> bool:
    """The kernel loads programs of ``prog_type`` (for types whose programs need no
    attach target: not tracing, lsm, ext or struct_ops)."""
    try:
        os.close(load_trivial(prog_type))
    except OSError:
        return False
    return True


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
    function = probes.syscall_function("bpf")
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
