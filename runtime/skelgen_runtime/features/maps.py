"""Which map types and map flags the running kernel knows, probed when first asked
and remembered (libbpf's ``libbpf_probe_bpf_map_type`` and ``probe_kern_array_mmap``).
"""

from __future__ import annotations

import ctypes
import errno
import functools
import os

from ..btf import codec, types as t
from ..sys import commands as cmd
from ..sys.syscall import PAGE_SIZE
from ..uapi.bpf import MapFlag, MapType

_CGROUP_STORAGE_KEY_SIZE = 16  # sizeof(struct bpf_cgroup_storage_key), padded
_LOCAL_STORAGES = frozenset(
    {
        MapType.SK_STORAGE,
        MapType.INODE_STORAGE,
        MapType.TASK_STORAGE,
        MapType.CGRP_STORAGE,
    }
)


def _local_storage_btf() -> bytes:
    """libbpf's probe BTF: ``struct val { int cnt; struct bpf_spin_lock l; }``."""
    int_type = t.Int("", 4, t.IntEncoding.SIGNED, 0, 32)
    lock = t.Struct("bpf_spin_lock", 4, [t.Member("val", 1, 0)])
    value = t.Struct("val", 8, [t.Member("cnt", 1, 0), t.Member("l", 2, 32)])
    return codec.encode([int_type, lock, value], codec.StringTable())


def _creates(
    map_type: MapType,
    key_size: int,
    value_size: int,
    max_entries: int,
    flags: int = 0,
    inner_map_fd: int = 0,
    btf_fd: int = 0,
) -> bool:
    key_id, value_id = (1, 3) if btf_fd else (0, 0)  # in _local_storage_btf()
    try:
        os.close(
            cmd.map_create(
                map_type,
                key_size,
                value_size,
                max_entries,
                flags=flags,
                inner_map_fd=inner_map_fd,
                btf_fd=btf_fd,
                btf_key_type_id=key_id,
                btf_value_type_id=value_id,
            )
        )
    except OSError:
        return False
    return True


@functools.cache
def has_map_type(map_type: MapType) -> bool:
    """The kernel can create maps of this type; STRUCT_OPS (which needs a kernel
    struct to fill) is taken as known."""
    if map_type == MapType.STRUCT_OPS:
        return True
    key_size, value_size, max_entries, flags = 4, 4, 1, 0
    if map_type == MapType.STACK_TRACE:
        value_size = 8
    elif map_type == MapType.LPM_TRIE:
        key_size, value_size, flags = 8, 8, MapFlag.NO_PREALLOC
    elif map_type in (MapType.CGROUP_STORAGE, MapType.PERCPU_CGROUP_STORAGE):
        key_size, value_size, max_entries = _CGROUP_STORAGE_KEY_SIZE, 8, 0
    elif map_type in (MapType.QUEUE, MapType.STACK, MapType.BLOOM_FILTER):
        key_size = 0
    elif map_type in (MapType.RINGBUF, MapType.USER_RINGBUF):
        key_size, value_size, max_entries = 0, 0, PAGE_SIZE
    elif map_type == MapType.ARENA:
        key_size, value_size, flags = 0, 0, MapFlag.MMAPABLE
    if map_type in _LOCAL_STORAGES:
        try:
            btf_fd = cmd.btf_load(_local_storage_btf())
        except OSError:
            return False
        try:
            return _creates(map_type, 4, 8, 0, MapFlag.NO_PREALLOC, btf_fd=btf_fd)
        finally:
            os.close(btf_fd)
    inner_fd = 0
    if map_type in (MapType.ARRAY_OF_MAPS, MapType.HASH_OF_MAPS):
        try:
            inner_fd = cmd.map_create(MapType.HASH, 4, 4, 1)
        except OSError:
            return False
    try:
        return _creates(map_type, key_size, value_size, max_entries, flags, inner_fd)
    finally:
        if inner_fd:
            os.close(inner_fd)


@functools.cache
def has_mmapable_arrays() -> bool:
    """Array maps can be mmap'd (``BPF_F_MMAPABLE``, 5.5): global data lives in
    kernel memory that Python reads directly."""
    return _creates(MapType.ARRAY, 4, 4, 1, MapFlag.MMAPABLE)


@functools.cache
def has_struct_ops_links() -> bool:
    """struct_ops maps take ``BPF_F_LINK`` (6.4: ``.struct_ops.link`` tables): with
    a value type no kernel has, a kernel that knows the flag fails on the type
    (ENOTSUPP), one that does not fails on the flag (EINVAL)."""
    try:
        os.close(
            cmd.map_create(
                MapType.STRUCT_OPS,
                4,
                4,
                1,
                flags=MapFlag.LINK,
                btf_vmlinux_value_type_id=0xFFFF_FFFF,
            )
        )
    except OSError as exc:
        return exc.errno != errno.EINVAL
    return True


@functools.cache
def has_hash_lookup_and_delete() -> bool:
    """Hash maps take ``BPF_MAP_LOOKUP_AND_DELETE_ELEM`` (5.14; queues and stacks
    had it before): on a missing key the kernel answers ENOENT, not ENOTSUPP."""
    try:
        fd = cmd.map_create(MapType.HASH, 4, 4, 1)
    except OSError:
        return False
    key, value = ctypes.c_uint32(0), ctypes.c_uint32(0)
    try:
        cmd.map_lookup_and_delete(fd, ctypes.addressof(key), ctypes.addressof(value))
    except OSError as exc:
        return exc.errno == errno.ENOENT
    finally:
        os.close(fd)
    return True
