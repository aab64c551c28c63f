"""What programs can do on the running kernel (program types, helpers, hooks),
probed when first asked and remembered, with the probes libbpf makes."""

from __future__ import annotations

import ctypes
import errno
import functools
import os

from ..kernel import probes
from ..sys import attr as a, commands as cmd
from ..uapi.bpf import AttachType, ProgFlag, ProgType

BPF_FUNC_GET_ATTACH_COOKIE = 174
BPF_FUNC_KTIME_GET_COARSE_NS = 160
ENOTSUPP = 524  # the kernel's internal "not supported", seen by user space

# r0 = 0; exit
RETURN_ZERO = bytes([0xB7, 0, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0])


def call_helper(helper: int) -> bytes:
    """call ``helper``; exit"""
    return bytes([0x85, 0, 0, 0]) + helper.to_bytes(4, "little") + RETURN_ZERO[8:]


def load_probe_program(
    prog_type: ProgType,
    insns: bytes = RETURN_ZERO,
    expected_attach_type: int = 0,
    flags: int = 0,
    attach_btf_id: int = 0,
    log: ctypes.Array[ctypes.c_char] | None = None,
) -> int:
    """Load a tiny GPL program and return its fd (the caller closes it); OSError
    when the kernel refuses it (then ``log`` holds the verifier's words)."""
    code = ctypes.create_string_buffer(insns, len(insns))
    license_buf = ctypes.create_string_buffer(b"GPL")
    attr = a.ProgLoadAttr(
        prog_type=prog_type,
        insns=ctypes.addressof(code),
        insn_cnt=len(insns) // 8,
        license=ctypes.addressof(license_buf),
        expected_attach_type=expected_attach_type,
        prog_flags=flags,
        attach_btf_id=attach_btf_id,
    )
    if log is not None:
        attr.log_level, attr.log_size = 1, len(log)
        attr.log_buf = ctypes.addressof(log)
    return cmd.prog_load(attr)


def _loads(
    prog_type: ProgType,
    insns: bytes = RETURN_ZERO,
    expected_attach_type: int = 0,
    flags: int = 0,
) -> bool:
    try:
        os.close(load_probe_program(prog_type, insns, expected_attach_type, flags))
    except OSError:
        return False
    return True


# What libbpf's libbpf_probe_bpf_prog_type() sets for the types that need more
# than a type to load.
_PROBE_ATTACH_TYPES = {
    ProgType.CGROUP_SOCK_ADDR: AttachType.CGROUP_INET4_CONNECT,
    ProgType.CGROUP_SOCKOPT: AttachType.CGROUP_GETSOCKOPT,
    ProgType.SK_LOOKUP: AttachType.SK_LOOKUP,
    ProgType.LIRC_MODE2: AttachType.LIRC_MODE2,
    ProgType.NETFILTER: AttachType.NETFILTER,
    ProgType.TRACING: AttachType.TRACE_FENTRY,
    ProgType.LSM: AttachType.MODIFY_RETURN,
}
_PROBE_FLAGS = {ProgType.SYSCALL: ProgFlag.SLEEPABLE}
# Types that load only with a kernel function to attach to: libbpf gives them
# BTF id 1 (never a function) and knows them by the error and the log.
_REFUSAL_OF_KNOWN_TYPE = {
    ProgType.TRACING: (errno.EINVAL, "attach_btf_id 1 is not a function"),
    ProgType.LSM: (errno.EINVAL, "attach_btf_id 1 is not a function"),
    ProgType.EXT: (errno.EINVAL, "Cannot replace kernel functions"),
    ProgType.STRUCT_OPS: (ENOTSUPP, ""),
}


@functools.cache
def has_prog_type(prog_type: ProgType) -> bool:
    """The kernel knows this program type (libbpf's ``libbpf_probe_bpf_prog_type``)."""
    attach_type = _PROBE_ATTACH_TYPES.get(prog_type, 0)
    refusal = _REFUSAL_OF_KNOWN_TYPE.get(prog_type)
    if refusal is None:
        flags = _PROBE_FLAGS.get(prog_type, 0)
        return _loads(prog_type, RETURN_ZERO, attach_type, flags)
    log = ctypes.create_string_buffer(4096)
    try:
        os.close(
            load_probe_program(
                prog_type, expected_attach_type=attach_type, attach_btf_id=1, log=log
            )
        )
    except OSError as exc:
        code, message = refusal
        return exc.errno == code and message.encode() in log.value
    return False


_HELPER_REFUSALS = (
    b"invalid func ",
    b"unknown func ",
    b"program of this type cannot use helper ",
)


@functools.cache
def has_helper(prog_type: ProgType, helper: int) -> bool:
    """Programs of ``prog_type`` may call helper number ``helper``
    (``BPF_FUNC_*``; libbpf's ``libbpf_probe_bpf_helper``): the probe calls it
    without arguments, so only a log saying the function is unknown, invalid or not
    for this type is a no."""
    if not has_prog_type(prog_type):
        return False
    log = ctypes.create_string_buffer(4096)
    try:
        os.close(
            load_probe_program(
                prog_type,
                call_helper(helper),
                _PROBE_ATTACH_TYPES.get(prog_type, 0),
                _PROBE_FLAGS.get(prog_type, 0),
                log=log,
            )
        )
    except OSError:
        return not any(refusal in log.value for refusal in _HELPER_REFUSALS)
    return True


@functools.cache
def has_bpf_cookie() -> bool:
    """``bpf_get_attach_cookie()`` exists (``LINUX_HAS_BPF_COOKIE``)."""
    return _loads(ProgType.KPROBE, call_helper(BPF_FUNC_GET_ATTACH_COOKIE))


@functools.cache
def has_memcg_accounting() -> bool:
    """BPF memory is charged to the memory cgroup, not to RLIMIT_MEMLOCK (5.11):
    libbpf's ``probe_memcg_account`` looks for a helper that came in the same
    release, ``bpf_ktime_get_coarse_ns()``."""
    return _loads(ProgType.SOCKET_FILTER, call_helper(BPF_FUNC_KTIME_GET_COARSE_NS))


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
