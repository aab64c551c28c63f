"""Histogram printers: the exact text bcc's print_log2_hist / print_linear_hist give.

The expected texts were checked against bcc's own formatting code
(src/python/bcc/table.py) run on the same counts.
"""

from __future__ import annotations

import ctypes
import io

import pytest
from skelgen_runtime.cdata.codec import PerCpuValues
from skelgen_runtime.maps.histogram import (
    format_linear_hist,
    format_log2_hist,
    log2_slot,
    print_linear_hist,
    print_log2_hist,
    stars,
)

LOG2_COUNTS = [0, 0, 0, 5, 12, 7, 0, 1] + [0] * 57

LOG2_TEXT = """\
     usecs               : count     distribution
         0 -> 1          : 0        |                                        |
         2 -> 3          : 0        |                                        |
         4 -> 7          : 5        |****************                        |
         8 -> 15         : 12       |****************************************|
        16 -> 31         : 7        |***********************                 |
        32 -> 63         : 0        |                                        |
        64 -> 127        : 1        |***                                     |
"""

LINEAR_TEXT = """\
     msecs         : count     distribution
        0          : 0        |                                        |
        1          : 3        |************                            |
        2          : 0        |                                        |
        3          : 0        |                                        |
        4          : 10       |****************************************|
        5          : 1        |****                                    |
"""


def test_log2_hist_matches_bcc() -> None:
    assert format_log2_hist(LOG2_COUNTS, "usecs") == LOG2_TEXT


def test_log2_hist_strips_leading_zero_slots() -> None:
    text = format_log2_hist(LOG2_COUNTS, "usecs", strip_leading_zero=True)
    assert text.splitlines() == [LOG2_TEXT.splitlines()[0], *LOG2_TEXT.splitlines()[3:]]


def test_log2_hist_of_large_values_uses_wide_columns() -> None:
    counts = [0] * 40 + [3, 9] + [0] * 23
    lines = format_log2_hist(counts, "nsecs").splitlines()
    assert (
        lines[0]
        == "               nsecs                         : count     distribution"
    )
    assert lines[-2] == (
        "        549755813888 -> 1099511627775        : 3        |******              |"
    )
    assert lines[-1] == (
        "       1099511627776 -> 2199023255551        : 9        |********************|"
    )
    assert len(lines) == 42


def test_empty_histograms_print_nothing() -> None:
    assert format_log2_hist([0] * 65) == ""
    assert format_log2_hist([7]) == ""  # slot 0 alone: bcc prints nothing either
    assert format_linear_hist([]) == ""


def test_linear_hist_matches_bcc() -> None:
    assert format_linear_hist([0, 3, 0, 0, 10, 1], "msecs") == LINEAR_TEXT


def test_stars() -> None:
    assert stars(12, 12, 40) == "*" * 40
    assert stars(5, 12, 40) == "*" * 16
    assert stars(1, 1000, 40) == ""
    assert stars(13, 12, 40) == "*" * 39 + "+"


def test_print_from_a_mapping_of_slots_with_per_cpu_counts() -> None:
    out = io.StringIO()
    buckets = {3: 5, 4: PerCpuValues([10, 2]), 5: ctypes.c_uint64(7), 7: 1}
    print_log2_hist(buckets, "usecs", file=out)
    assert out.getvalue() == LOG2_TEXT


class SectionKey(ctypes.Structure):
    _fields_ = [
        ("disk", ctypes.c_uint32),
        ("_pad", ctypes.c_uint32),
        ("slot", ctypes.c_uint64),
    ]


class Entries:
    """Like a map: items() of (structure key, count); structures are not hashable."""

    def items(self) -> list[tuple[SectionKey, int]]:
        return [
            (SectionKey(1, 0, 1), 3),
            (SectionKey(2, 0, 4), 10),
            (SectionKey(2, 0, 5), 1),
        ]


def test_print_sections_keyed_by_the_first_field() -> None:
    entries = Entries()
    out = io.StringIO()
    print_linear_hist(
        entries,
        "msecs",
        section_header="disk",
        section_print_fn=lambda d: f"sd{d}",
        bucket_sort_fn=sorted,
        file=out,
    )
    text = out.getvalue()
    assert text.startswith("\ndisk = sd1\n     msecs ")
    second = text[text.index("\ndisk = sd2\n") + len("\ndisk = sd2\n") :]
    assert (
        second.splitlines()[-1]
        == "        5          : 1        |****                                    |"
    )


def test_bad_slots_are_reported() -> None:
    with pytest.raises(ValueError, match="slot 70"):
        print_log2_hist({70: 1}, file=io.StringIO())


def test_libbpf_tools_slots_print_as_bcc_prints_the_same_values() -> None:
    # libbpf-tools' log2l() puts each value one slot lower than bcc's bpf_log2l().
    libbpf_counts = LOG2_COUNTS[1:]
    assert format_log2_hist(libbpf_counts, "usecs", slots="libbpf-tools") == LOG2_TEXT
    out = io.StringIO()
    print_log2_hist(
        dict(enumerate(libbpf_counts)), "usecs", file=out, slots="libbpf-tools"
    )
    assert out.getvalue() == LOG2_TEXT
    # Read with the wrong convention, every bucket is one slot off.
    assert format_log2_hist(libbpf_counts, "usecs") != LOG2_TEXT


def test_log2_slot_of_each_convention() -> None:
    assert [log2_slot(v) for v in (0, 1, 2, 3, 4, 7, 8)] == [1, 1, 2, 2, 3, 3, 4]
    assert [log2_slot(v, "libbpf-tools") for v in (0, 1, 2, 3, 4, 8)] == [
        0, 0, 1, 1, 2, 3,
    ]  # fmt: skip
    assert log2_slot(2**64 - 1) == 64 and log2_slot(2**64 - 1, "libbpf-tools") == 63


def test_an_unknown_slot_convention_is_refused() -> None:
    with pytest.raises(ValueError, match="slots must be 'bcc' or 'libbpf-tools'"):
        print_log2_hist([0, 1], slots="bpftrace", file=io.StringIO())  # type: ignore[arg-type]
