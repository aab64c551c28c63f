"""``perf_event_open``: attribute layout, ioctl numbers, dynamic PMUs, sampling events."""

from __future__ import annotations

import ctypes
import os
from ctypes import c_int32, c_uint16, c_uint32, c_uint64

from ..uapi.perf import (
    FLAG_FREQ,
    PERF_COUNT_SW_BPF_OUTPUT,
    PERF_FLAG_FD_CLOEXEC,
    PERF_SAMPLE_RAW,
    PERF_TYPE_SOFTWARE,
)
from .syscall import perf_event_open


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


PMU_ROOT = "/sys/bus/event_source/devices"


def parse_format_bit(text: str) -> int:
    """The first ``config`` bit a PMU format file names: ``config:0`` → 0."""
    field, _, bits = text.strip().partition(":")
    low = bits.partition("-")[0]
    if field != "config" or not low.isdigit():
        raise ValueError(f"unexpected PMU format {text.strip()!r}")
    return int(low)


def pmu_type(pmu: str) -> int | None:
    """The ``type`` of a dynamic PMU such as ``kprobe`` or ``uprobe``; None when the
    kernel does not have it."""
    try:
        with open(os.path.join(PMU_ROOT, pmu, "type")) as f:
            return int(f.read())
    except FileNotFoundError:
        return None


def pmu_format_bit(pmu: str, name: str) -> int:
    """The ``config`` bit of a PMU format such as ``retprobe``."""
    with open(os.path.join(PMU_ROOT, pmu, "format", name)) as f:
        return parse_format_bit(f.read())


def open_perf_event(
    perf_type: int,
    config: int,
    *,
    cpu: int,
    pid: int = -1,
    sample_period: int = 0,
    sample_freq: int = 0,
) -> int:
    """Open a sampling event (e.g. ``PERF_TYPE_SOFTWARE``/``PERF_COUNT_SW_CPU_CLOCK`` on one
    CPU) for a perf_event program; give ``sample_period`` or ``sample_freq`` (Hz)."""
    attr = PerfEventAttr(
        type=perf_type,
        config=config,
        sample_period=sample_freq or sample_period,
        flags=FLAG_FREQ if sample_freq else 0,
    )
    return perf_event_open(attr, pid, cpu, -1, PERF_FLAG_FD_CLOEXEC)


# Records in a perf ring (``perf_event_header.type``) and the ring's control page
# (``struct perf_event_mmap_page``: where the kernel writes data_head and we write
# data_tail).


def open_bpf_output(cpu: int) -> int:
    """A ``PERF_COUNT_SW_BPF_OUTPUT`` event on one CPU, as libbpf's perf buffer opens:
    raw samples, a wakeup for every sample.  Enable it once its ring is mapped."""
    attr = PerfEventAttr(
        type=PERF_TYPE_SOFTWARE,
        config=PERF_COUNT_SW_BPF_OUTPUT,
        sample_type=PERF_SAMPLE_RAW,
        sample_period=1,
        wakeup_events=1,
    )
    return perf_event_open(attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC)
