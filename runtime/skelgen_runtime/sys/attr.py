"""``union bpf_attr`` per command, as ctypes structures.

Each class is the prefix of the union that one command reads; the kernel accepts a
shorter ``bpf_attr`` as long as the bytes it does not know about are zero.
"""

from __future__ import annotations

import ctypes
from ctypes import c_char, c_int32, c_uint32, c_uint64


class MapCreateAttr(ctypes.Structure):
    _fields_ = [
        ("map_type", c_uint32),
        ("key_size", c_uint32),
        ("value_size", c_uint32),
        ("max_entries", c_uint32),
        ("map_flags", c_uint32),
        ("inner_map_fd", c_uint32),
        ("numa_node", c_uint32),
        ("map_name", c_char * 16),
        ("map_ifindex", c_uint32),
        ("btf_fd", c_uint32),
        ("btf_key_type_id", c_uint32),
        ("btf_value_type_id", c_uint32),
        ("btf_vmlinux_value_type_id", c_uint32),
        ("map_extra", c_uint64),
        ("value_type_btf_obj_fd", c_int32),
        ("map_token_fd", c_int32),
    ]


class MapElemAttr(ctypes.Structure):
    """MAP_LOOKUP_ELEM, MAP_UPDATE_ELEM, MAP_DELETE_ELEM, MAP_GET_NEXT_KEY, ..."""

    _fields_ = [
        ("map_fd", c_uint32),
        ("key", c_uint64),
        ("value", c_uint64),  # also next_key
        ("flags", c_uint64),
    ]


class MapBatchAttr(ctypes.Structure):
    _fields_ = [
        ("in_batch", c_uint64),
        ("out_batch", c_uint64),
        ("keys", c_uint64),
        ("values", c_uint64),
        ("count", c_uint32),
        ("map_fd", c_uint32),
        ("elem_flags", c_uint64),
        ("flags", c_uint64),
    ]


class ProgLoadAttr(ctypes.Structure):
    _fields_ = [
        ("prog_type", c_uint32),
        ("insn_cnt", c_uint32),
        ("insns", c_uint64),
        ("license", c_uint64),
        ("log_level", c_uint32),
        ("log_size", c_uint32),
        ("log_buf", c_uint64),
        ("kern_version", c_uint32),
        ("prog_flags", c_uint32),
        ("prog_name", c_char * 16),
        ("prog_ifindex", c_uint32),
        ("expected_attach_type", c_uint32),
        ("prog_btf_fd", c_uint32),
        ("func_info_rec_size", c_uint32),
        ("func_info", c_uint64),
        ("func_info_cnt", c_uint32),
        ("line_info_rec_size", c_uint32),
        ("line_info", c_uint64),
        ("line_info_cnt", c_uint32),
        ("attach_btf_id", c_uint32),
        ("attach_btf_obj_fd", c_uint32),  # also attach_prog_fd
        ("core_relo_cnt", c_uint32),
        ("fd_array", c_uint64),
        ("core_relos", c_uint64),
        ("core_relo_rec_size", c_uint32),
        ("log_true_size", c_uint32),
    ]


class ObjPinAttr(ctypes.Structure):
    """OBJ_PIN and OBJ_GET."""

    _fields_ = [
        ("pathname", c_uint64),
        ("bpf_fd", c_uint32),
        ("file_flags", c_uint32),
    ]


class ProgAttachAttr(ctypes.Structure):
    """PROG_ATTACH and PROG_DETACH."""

    _fields_ = [
        ("target_fd", c_uint32),
        ("attach_bpf_fd", c_uint32),
        ("attach_type", c_uint32),
        ("attach_flags", c_uint32),
        ("replace_bpf_fd", c_uint32),
    ]


class TestRunAttr(ctypes.Structure):
    _fields_ = [
        ("prog_fd", c_uint32),
        ("retval", c_uint32),
        ("data_size_in", c_uint32),
        ("data_size_out", c_uint32),
        ("data_in", c_uint64),
        ("data_out", c_uint64),
        ("repeat", c_uint32),
        ("duration", c_uint32),
        ("ctx_size_in", c_uint32),
        ("ctx_size_out", c_uint32),
        ("ctx_in", c_uint64),
        ("ctx_out", c_uint64),
        ("flags", c_uint32),
        ("cpu", c_uint32),
        ("batch_size", c_uint32),
    ]


class GetIdAttr(ctypes.Structure):
    """*_GET_NEXT_ID and *_GET_FD_BY_ID."""

    _fields_ = [
        ("id", c_uint32),
        ("next_id", c_uint32),
        ("open_flags", c_uint32),
    ]


class InfoByFdAttr(ctypes.Structure):
    _fields_ = [
        ("bpf_fd", c_uint32),
        ("info_len", c_uint32),
        ("info", c_uint64),
    ]


class RawTracepointOpenAttr(ctypes.Structure):
    _fields_ = [
        ("name", c_uint64),
        ("prog_fd", c_uint32),
        ("_pad", c_uint32),
        ("cookie", c_uint64),
    ]


class BtfLoadAttr(ctypes.Structure):
    _fields_ = [
        ("btf", c_uint64),
        ("btf_log_buf", c_uint64),
        ("btf_size", c_uint32),
        ("btf_log_size", c_uint32),
        ("btf_log_level", c_uint32),
        ("btf_log_true_size", c_uint32),
    ]


class LinkCreateAttr(ctypes.Structure):
    """LINK_CREATE: a fixed head, then a per-kind tail written through ``tail``.

    The tail is a union in the kernel (iter_info, perf_event, kprobe_multi, tracing,
    netfilter, tcx, uprobe_multi, netkit); callers fill the variant they need with
    ``ctypes.memmove`` from one of the ``*LinkTail`` structures below.
    """

    _fields_ = [
        ("prog_fd", c_uint32),  # also map_fd
        ("target_fd", c_uint32),  # also target_ifindex
        ("attach_type", c_uint32),
        ("flags", c_uint32),
        ("tail", c_uint64 * 8),
    ]


class IterLinkTail(ctypes.Structure):
    _fields_ = [("iter_info", c_uint64), ("iter_info_len", c_uint32)]


class PerfEventLinkTail(ctypes.Structure):
    _fields_ = [("bpf_cookie", c_uint64)]


class KprobeMultiLinkTail(ctypes.Structure):
    _fields_ = [
        ("flags", c_uint32),
        ("cnt", c_uint32),
        ("syms", c_uint64),
        ("addrs", c_uint64),
        ("cookies", c_uint64),
    ]


class TracingLinkTail(ctypes.Structure):
    _fields_ = [("target_btf_id", c_uint32), ("cookie", c_uint64)]


class NetfilterLinkTail(ctypes.Structure):
    _fields_ = [
        ("pf", c_uint32),
        ("hooknum", c_uint32),
        ("priority", c_int32),
        ("flags", c_uint32),
    ]


class TcxLinkTail(ctypes.Structure):
    _fields_ = [("relative_fd", c_uint32), ("expected_revision", c_uint64)]


class UprobeMultiLinkTail(ctypes.Structure):
    _fields_ = [
        ("path", c_uint64),
        ("offsets", c_uint64),
        ("ref_ctr_offsets", c_uint64),
        ("cookies", c_uint64),
        ("cnt", c_uint32),
        ("flags", c_uint32),
        ("pid", c_uint32),
    ]


class FdAttr(ctypes.Structure):
    """Commands that take one fd: MAP_FREEZE, LINK_DETACH."""

    _fields_ = [("fd", c_uint32)]


class IterCreateAttr(ctypes.Structure):
    _fields_ = [("link_fd", c_uint32), ("flags", c_uint32)]


class IterMapInfo(ctypes.Structure):
    _fields_ = [("map_fd", c_uint32)]


class IterCgroupInfo(ctypes.Structure):
    _fields_ = [("order", c_uint32), ("cgroup_fd", c_uint32), ("cgroup_id", c_uint64)]


class IterTaskInfo(ctypes.Structure):
    _fields_ = [("tid", c_uint32), ("pid", c_uint32), ("pid_fd", c_uint32)]


class IterLinkInfo(ctypes.Union):
    """``union bpf_iter_link_info``: which map, cgroup or task an iterator walks."""

    _fields_ = [
        ("map", IterMapInfo),
        ("cgroup", IterCgroupInfo),
        ("task", IterTaskInfo),
    ]


class LinkUpdateAttr(ctypes.Structure):
    _fields_ = [
        ("link_fd", c_uint32),
        ("new_prog_fd", c_uint32),
        ("flags", c_uint32),
        ("old_prog_fd", c_uint32),
    ]


class BpfMapInfo(ctypes.Structure):
    """``struct bpf_map_info`` (the prefix we read)."""

    _fields_ = [
        ("type", c_uint32),
        ("id", c_uint32),
        ("key_size", c_uint32),
        ("value_size", c_uint32),
        ("max_entries", c_uint32),
        ("map_flags", c_uint32),
        ("name", c_char * 16),
        ("ifindex", c_uint32),
        ("btf_vmlinux_value_type_id", c_uint32),
        ("netns_dev", c_uint64),
        ("netns_ino", c_uint64),
        ("btf_id", c_uint32),
        ("btf_key_type_id", c_uint32),
        ("btf_value_type_id", c_uint32),
        ("_pad", c_uint32),
        ("map_extra", c_uint64),
    ]


class BpfProgInfo(ctypes.Structure):
    """``struct bpf_prog_info`` (the prefix we read)."""

    _fields_ = [
        ("type", c_uint32),
        ("id", c_uint32),
        ("tag", ctypes.c_uint8 * 8),
        ("jited_prog_len", c_uint32),
        ("xlated_prog_len", c_uint32),
        ("jited_prog_insns", c_uint64),
        ("xlated_prog_insns", c_uint64),
        ("load_time", c_uint64),
        ("created_by_uid", c_uint32),
        ("nr_map_ids", c_uint32),
        ("map_ids", c_uint64),
        ("name", c_char * 16),
        ("ifindex", c_uint32),
        ("gpl_compatible", c_uint32),
        ("netns_dev", c_uint64),
        ("netns_ino", c_uint64),
        ("nr_jited_ksyms", c_uint32),
        ("nr_jited_func_lens", c_uint32),
        ("jited_ksyms", c_uint64),
        ("jited_func_lens", c_uint64),
        ("btf_id", c_uint32),
    ]


class BpfBtfInfo(ctypes.Structure):
    """``struct bpf_btf_info``."""

    _fields_ = [
        ("btf", c_uint64),
        ("btf_size", c_uint32),
        ("id", c_uint32),
        ("name", c_uint64),
        ("name_len", c_uint32),
        ("kernel_btf", c_uint32),
    ]


class BpfLinkInfo(ctypes.Structure):
    """``struct bpf_link_info`` head."""

    _fields_ = [
        ("type", c_uint32),
        ("id", c_uint32),
        ("prog_id", c_uint32),
    ]
