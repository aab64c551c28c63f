"""``perf_event_open`` attribute layout and ioctl numbers."""

from __future__ import annotations

import ctypes
from ctypes import c_int32, c_uint16, c_uint32, c_uint64

PERF_TYPE_HARDWARE = 0
PERF_TYPE_SOFTWARE = 1
PERF_TYPE_TRACEPOINT = 2
PERF_COUNT_SW_CPU_CLOCK = 0
PERF_COUNT_SW_BPF_OUTPUT = 10
PERF_SAMPLE_RAW = 1 << 10
PERF_FLAG_FD_CLOEXEC = 1 << 3

PERF_EVENT_IOC_ENABLE = 0x2400
PERF_EVENT_IOC_DISABLE = 0x2401
PERF_EVENT_IOC_SET_BPF = 0x40042408


class PerfEventAttr(ctypes.Structure):
    """``struct perf_event_attr`` (PERF_ATTR_SIZE_VER8)."""

    _fields_ = [
        ("type", c_uint32),
        ("size", c_uint32),
        ("config", c_uint64),
        ("sample_period", c_uint64),  # also sample_freq
        ("sample_type", c_uint64),
        ("read_format", c_uint64),
        ("flags", c_uint64),  # disabled, inherit, ..., freq (bit 10), ...
        ("wakeup_events", c_uint32),  # also wakeup_watermark
        ("bp_type", c_uint32),
        ("config1", c_uint64),  # kprobe_func, uprobe_path
        ("config2", c_uint64),  # kprobe_addr, probe_offset
        ("branch_sample_type", c_uint64),
        ("sample_regs_user", c_uint64),
        ("sample_stack_user", c_uint32),
        ("clockid", c_int32),
        ("sample_regs_intr", c_uint64),
        ("aux_watermark", c_uint32),
        ("sample_max_stack", c_uint16),
        ("_reserved_2", c_uint16),
        ("aux_sample_size", c_uint32),
        ("_reserved_3", c_uint32),
        ("sig_data", c_uint64),
        ("config3", c_uint64),
    ]

    def __init__(self, **kwargs: int) -> None:
        super().__init__(size=ctypes.sizeof(PerfEventAttr), **kwargs)


FLAG_DISABLED = 1 << 0
FLAG_FREQ = 1 << 10
FLAG_WATERMARK = 1 << 14
