"""One thin function per ``bpf()`` command the runtime uses.

Arguments are plain ints and bytes; results are fds or filled structures.  Errors
stay :class:`OSError` here — the layers above know what was being attempted.
"""

from __future__ import annotations

import ctypes
import os

from ..uapi.bpf import OBJ_NAME_LEN, Cmd
from . import attr as a
from .syscall import bound_attr, bpf, bpf_args, bpf_raw


def object_name(name: str) -> bytes:
    """Kernel object names: at most 15 chars of [A-Za-z0-9_.]."""
    clean = "".join(c if c.isalnum() or c in "_." else "_" for c in name)
    return clean.encode("ascii", "replace")[: OBJ_NAME_LEN - 1]


def btf_load(blob: bytes, log: ctypes.Array[ctypes.c_char] | None = None) -> int:
    """Load BTF and return its fd; with a ``log`` buffer the kernel explains itself
    there (read it after an OSError)."""
    buf = ctypes.create_string_buffer(blob, len(blob))
    attr = a.BtfLoadAttr(
        btf=ctypes.addressof(buf),
        btf_size=len(blob),
        btf_log_buf=ctypes.addressof(log) if log is not None else 0,
        btf_log_size=len(log) if log is not None else 0,
        btf_log_level=1 if log is not None else 0,
    )
    return bpf(Cmd.BTF_LOAD, attr)


def map_create(
    map_type: int,
    key_size: int,
    value_size: int,
    max_entries: int,
    *,
    flags: int = 0,
    name: str = "",
    inner_map_fd: int = 0,
    numa_node: int = 0,
    btf_fd: int = 0,
    btf_key_type_id: int = 0,
    btf_value_type_id: int = 0,
    map_extra: int = 0,
    btf_vmlinux_value_type_id: int = 0,
    value_type_btf_obj_fd: int = 0,
) -> int:
    attr = a.MapCreateAttr(
        map_type=map_type,
        key_size=key_size,
        value_size=value_size,
        max_entries=max_entries,
        map_flags=flags,
        inner_map_fd=inner_map_fd,
        numa_node=numa_node,
        map_name=object_name(name),
        btf_fd=btf_fd,
        btf_key_type_id=btf_key_type_id,
        btf_value_type_id=btf_value_type_id,
        map_extra=map_extra,
        btf_vmlinux_value_type_id=btf_vmlinux_value_type_id,
        value_type_btf_obj_fd=value_type_btf_obj_fd,
    )
    return bpf(Cmd.MAP_CREATE, attr)


def map_update(fd: int, key_addr: int, value_addr: int, flags: int = 0) -> None:
    bpf(
        Cmd.MAP_UPDATE_ELEM,
        a.MapElemAttr(map_fd=fd, key=key_addr, value=value_addr, flags=flags),
    )


def map_lookup(fd: int, key_addr: int, value_addr: int, flags: int = 0) -> None:
    bpf(
        Cmd.MAP_LOOKUP_ELEM,
        a.MapElemAttr(map_fd=fd, key=key_addr, value=value_addr, flags=flags),
    )


def map_delete(fd: int, key_addr: int) -> None:
    bpf(Cmd.MAP_DELETE_ELEM, a.MapElemAttr(map_fd=fd, key=key_addr))


def map_get_next_key(fd: int, key_addr: int, next_key_addr: int) -> None:
    bpf(
        Cmd.MAP_GET_NEXT_KEY,
        a.MapElemAttr(map_fd=fd, key=key_addr, value=next_key_addr),
    )


def map_lookup_and_delete(
    fd: int, key_addr: int, value_addr: int, flags: int = 0
) -> None:
    bpf(
        Cmd.MAP_LOOKUP_AND_DELETE_ELEM,
        a.MapElemAttr(map_fd=fd, key=key_addr, value=value_addr, flags=flags),
    )


def map_batch(command: Cmd, attr: a.MapBatchAttr) -> None:
    """One of the ``MAP_*_BATCH`` commands; the kernel writes ``attr.count`` (and
    ``out_batch``) back even when it fails part-way, so the caller keeps ``attr``."""
    bpf(command, attr)


# Map element commands repeated on one attr whose key/value pointers the caller
# fills: ``elem_call(*elem_args(command, attr))``, see :func:`.syscall.bpf_args`.
elem_call = bpf_raw


def elem_attr() -> a.MapElemAttr:
    """A ``MapElemAttr`` for :func:`elem_args` (kept alive by the caller)."""
    return bound_attr(a.MapElemAttr)


def elem_args(command: Cmd, attr: a.MapElemAttr) -> tuple[object, ...]:
    return bpf_args(command, attr)


def map_freeze(fd: int) -> None:
    bpf(Cmd.MAP_FREEZE, a.FdAttr(fd=fd))


def prog_load(attr: a.ProgLoadAttr) -> int:
    return bpf(Cmd.PROG_LOAD, attr)


def obj_pin(fd: int, path: str) -> None:
    raw = ctypes.create_string_buffer(os.fsencode(path))
    bpf(Cmd.OBJ_PIN, a.ObjPinAttr(pathname=ctypes.addressof(raw), bpf_fd=fd))


def obj_get(path: str, flags: int = 0) -> int:
    raw = ctypes.create_string_buffer(os.fsencode(path))
    return bpf(
        Cmd.OBJ_GET, a.ObjPinAttr(pathname=ctypes.addressof(raw), file_flags=flags)
    )


def obj_info(fd: int, info: ctypes.Structure) -> None:
    """Fill ``info`` (a ``bpf_*_info`` structure) for the object behind ``fd``."""
    bpf(
        Cmd.OBJ_GET_INFO_BY_FD,
        a.InfoByFdAttr(
            bpf_fd=fd, info_len=ctypes.sizeof(info), info=ctypes.addressof(info)
        ),
    )


def fd_by_id(cmd: Cmd, object_id: int) -> int:
    return bpf(cmd, a.GetIdAttr(id=object_id))


def next_id(cmd: Cmd, start_id: int) -> int:
    """The id following ``start_id`` (a ``*_GET_NEXT_ID`` command); ENOENT past the last."""
    attr = a.GetIdAttr(id=start_id)
    bpf(cmd, attr)
    return int(attr.next_id)


def raw_tracepoint_open(prog_fd: int, name: str | None) -> int:
    raw = ctypes.create_string_buffer(name.encode()) if name is not None else None
    return bpf(
        Cmd.RAW_TRACEPOINT_OPEN,
        a.RawTracepointOpenAttr(
            name=ctypes.addressof(raw) if raw else 0, prog_fd=prog_fd
        ),
    )


def link_create(
    prog_fd: int,
    target_fd: int,
    attach_type: int,
    flags: int = 0,
    tail: ctypes.Structure | None = None,
) -> int:
    attr = a.LinkCreateAttr(
        prog_fd=prog_fd, target_fd=target_fd, attach_type=attach_type, flags=flags
    )
    if tail is not None:
        ctypes.memmove(
            ctypes.addressof(attr.tail), ctypes.addressof(tail), ctypes.sizeof(tail)
        )
    return bpf(Cmd.LINK_CREATE, attr)


def link_detach(link_fd: int) -> None:
    bpf(Cmd.LINK_DETACH, a.FdAttr(fd=link_fd))


def link_update(link_fd: int, new_prog_fd: int) -> None:
    bpf(Cmd.LINK_UPDATE, a.LinkUpdateAttr(link_fd=link_fd, new_prog_fd=new_prog_fd))


def iter_create(link_fd: int) -> int:
    return bpf(Cmd.ITER_CREATE, a.IterCreateAttr(link_fd=link_fd))


def prog_attach(prog_fd: int, target_fd: int, attach_type: int, flags: int = 0) -> None:
    bpf(
        Cmd.PROG_ATTACH,
        a.ProgAttachAttr(
            target_fd=target_fd,
            attach_bpf_fd=prog_fd,
            attach_type=attach_type,
            attach_flags=flags,
        ),
    )


def prog_detach(prog_fd: int, target_fd: int, attach_type: int) -> None:
    bpf(
        Cmd.PROG_DETACH,
        a.ProgAttachAttr(
            target_fd=target_fd, attach_bpf_fd=prog_fd, attach_type=attach_type
        ),
    )


def prog_test_run(attr: a.TestRunAttr) -> None:
    bpf(Cmd.PROG_TEST_RUN, attr)
