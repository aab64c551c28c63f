"""A loaded BPF program as the attach target of another (freplace, fentry/fexit on
BPF code): the BTF id of one of its functions, read from the BTF it was loaded with,
as libbpf's ``libbpf_find_prog_btf_id`` reads it."""

from __future__ import annotations

import ctypes
import os

from ..btf import Btf, types as bt
from ..errors import LoadError, ObjectError, describe_errno
from ..sys import attr as a, commands as cmd
from ..uapi.bpf import Cmd


def program_function_btf_id(prog_fd: int, function: str) -> int:
    """The id of ``function``'s FUNC in the BTF of the program behind ``prog_fd``."""
    what = f"target program (fd {prog_fd})"
    info = a.BpfProgInfo()
    try:
        cmd.obj_info(prog_fd, info)
        if not info.btf_id:
            raise LoadError(f"{what} was loaded without BTF: no function to replace")
        btf_fd = cmd.fd_by_id(Cmd.BTF_GET_FD_BY_ID, info.btf_id)
    except OSError as exc:
        code = exc.errno or 0
        raise LoadError(f"{what}: {describe_errno(code)}", errno=code) from None
    try:
        size = a.BpfBtfInfo()
        cmd.obj_info(btf_fd, size)
        data = ctypes.create_string_buffer(size.btf_size)
        cmd.obj_info(
            btf_fd, a.BpfBtfInfo(btf=ctypes.addressof(data), btf_size=len(data))
        )
    except OSError as exc:
        code = exc.errno or 0
        raise LoadError(
            f"{what}: read its BTF: {describe_errno(code)}", errno=code
        ) from None
    finally:
        os.close(btf_fd)
    try:
        ids = Btf.from_bytes(data.raw).find(function, bt.Func)
    except ObjectError as exc:
        raise LoadError(f"{what}: its BTF: {exc}") from None
    if not ids:
        raise LoadError(f"{what} has no function {function!r}")
    return ids[0]
