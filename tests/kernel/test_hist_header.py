"""``skelgen/hist.bpf.h`` and the Python printers agree: values fed through a real
program land in the slot :func:`log2_slot` says, in each convention, and both
histograms print the same text once the printer is told their convention."""

from __future__ import annotations

import struct
from collections.abc import Callable
from types import ModuleType

import pytest
from skelgen_runtime.maps.histogram import (
    SlotConvention,
    format_log2_hist,
    log2_slot,
)

VALUES = [
    *range(0, 40),
    *(1 << n for n in range(64)),
    *((1 << n) - 1 for n in range(2, 65)),
    *((1 << n) + 1 for n in range(2, 64)),
    1000,
    123_456_789,
]
CAPPED_SLOTS = 8


def _expected(slots: SlotConvention, size: int) -> list[int]:
    counts = [0] * size
    for value in VALUES:
        counts[min(log2_slot(value, slots), size - 1)] += 1
    return counts


@pytest.fixture(scope="module")
def fed(skeleton_module: Callable[[str], ModuleType]) -> dict[str, list[int]]:
    with skeleton_module("hist_slots").HistSlotsBpf.open_and_load() as skel:
        for value in VALUES:
            result = skel.progs.feed.test_run(ctx=struct.pack("<Q", value))
            assert result.retval == log2_slot(value, "bcc"), value
        bss = skel.bss
        return {
            "bcc": list(bss.bcc),
            "libbpf_tools": list(bss.libbpf_tools),
            "capped": list(bss.capped),
        }


def test_slots_agree_with_python(fed: dict[str, list[int]]) -> None:
    assert fed["bcc"] == _expected("bcc", 65)
    assert fed["libbpf_tools"] == _expected("libbpf-tools", 64)
    assert fed["capped"] == _expected("libbpf-tools", CAPPED_SLOTS)
    # One slot apart: bcc's slot 0 stays empty.
    assert fed["bcc"][0] == 0 and fed["bcc"][1:] == fed["libbpf_tools"]
    assert fed["libbpf_tools"][:2] == [3, 4]  # 0, 1, 1 | 2, 2, 3, 3


def test_both_conventions_print_the_same_histogram(fed: dict[str, list[int]]) -> None:
    bcc_text = format_log2_hist(fed["bcc"], "usecs", slots="bcc")
    libbpf_text = format_log2_hist(fed["libbpf_tools"], "usecs", slots="libbpf-tools")
    assert bcc_text == libbpf_text
    first = bcc_text.splitlines()[1].split()
    assert first[:5] == ["0", "->", "1", ":", "3"]
    # Read as the other convention, every bucket would be one slot off.
    assert format_log2_hist(fed["libbpf_tools"], "usecs") != bcc_text
