"""Values travel both ways through the generated classes, field by field.

``tests/bpf/types_values.bpf.c``: ``fill`` stores a known value into every field
of every global (scalars of each kind, enums of each size, char arrays,
bitfields signed and unsigned, packed and aligned structs, nested anonymous
unions in arrays, 3-D arrays, a typedef chain, every section) and sends a typed
ring buffer event; ``check`` verifies each field in the kernel.  The table below
holds the same values as the C lists RW_VALUES and RO_VALUES.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from skelgen_runtime import MapError

pytestmark = pytest.mark.usefixtures("root_only")

SOURCE = Path(__file__).parents[1] / "bpf" / "types_values.bpf.c"


def _bits(prefix: str) -> list[tuple[str, Any]]:
    """BITS_VALUES of the C source."""
    return [
        (f"{prefix}.a", 5),
        (f"{prefix}.neg", -11),
        (f"{prefix}.cross", 0xABC),
        (f"{prefix}.wide", -0xFEDCBA98),
        (f"{prefix}.top", 0x5A5),
        (f"{prefix}.se", -1234),
        (f"{prefix}.flag", 1),
    ]


RW_VALUES: list[tuple[str, Any]] = [
    ("bss.scalars_bss.flag", True),
    ("bss.scalars_bss.ch", b"Q"),
    ("bss.scalars_bss.sc", -100),
    ("bss.scalars_bss.uc", 0xC8),
    ("bss.scalars_bss.sh", -30000),
    ("bss.scalars_bss.ush", 0xFEDC),
    ("bss.scalars_bss.i", -2000000000),
    ("bss.scalars_bss.ui", 0xF0E0D0C0),
    ("bss.scalars_bss.l", -0x123456789ABCDEF),
    ("bss.scalars_bss.ul", 0xFEDCBA9876543210),
    ("bss.scalars_bss.f", 1.5),
    ("bss.scalars_bss.d", -2.25),
    ("bss.scalars_bss.ptr", 0x1122334455667788),
    ("bss.scalars_bss.name", b"skel"),
    ("bss.scalars_bss.names[0]", b"a"),  # char names[2][4]: bytes per row
    ("bss.scalars_bss.names[1]", b"wxyz"),  # all 4 bytes, no NUL
    ("bss.scalars_bss.e8", 0xF1),
    ("bss.scalars_bss.e16", -1234),
    ("bss.scalars_bss.e32", 0xFEDCBA98),
    ("bss.scalars_bss.e64", -0x123456789),
    (
        "bss.scalars_bss.wide",
        (0xFEDCBA9876543210_0123456789ABCDEF).to_bytes(16, "little"),
    ),
    *_bits("bss.bits_bss"),
    ("bss.grid_bss.label", b"ab"),
    ("bss.grid_bss.cells[0].tag", 1),
    ("bss.grid_bss.cells[0].as_int", 0x11223344),
    ("bss.grid_bss.cells[1].tag", 2),
    ("bss.grid_bss.cells[1].lo", 0xA),
    ("bss.grid_bss.cells[1].hi", 0x5),
    ("bss.grid_bss.cells[1].mid", 0x77),
    ("bss.grid_bss.cells[1].top", -3),
    ("bss.grid_bss.cells[2].tag", -4),
    ("bss.grid_bss.cells[2].raw[0]", 0xF1),
    ("bss.grid_bss.cells[2].raw[3]", 0xF4),
    ("bss.grid_bss.cube[0][1][2]", -5),
    ("bss.grid_bss.cube[1][2][3]", 123456),
    ("bss.grid_bss.pts[0].y", ord("y") << 8),  # yc[1] = 'y' seen through the union
    ("bss.grid_bss.pts[1].x", 9),
    ("bss.grid_bss.pts[1].y", -7),
    ("data.packed_data.c", b"\x11"),
    ("data.packed_data.x", 0xABCDE),
    ("data.packed_data.y", -0x123456789A),
    ("data.packed_data.tail", -2),
    ("data.mixed_data.c", b"m"),
    ("data.mixed_data.i", 0x01020304),
    ("data.mixed_data.a.c", b"A"),
    ("data.mixed_data.l", -0x0102030405060708),
    ("data.anon_data.n", 3),
    *_bits("data.anon_data.b[1]"),
    ("data.anon_data.b[0].top", 0x7FF),
    ("data_custom.bits_custom[1].wide", 0xFFFFFFFF),
    ("data_custom.bits_custom[1].a", 7),
    ("data_custom.bits_custom[0].neg", -16),
]

RO_VALUES: list[tuple[str, Any]] = [
    ("rodata.scalars_ro.flag", True),
    ("rodata.scalars_ro.ch", b"R"),
    ("rodata.scalars_ro.sh", -1234),
    ("rodata.scalars_ro.ul", 0x8000000000000001),
    ("rodata.scalars_ro.f", -0.75),
    ("rodata.scalars_ro.d", 3.5),
    ("rodata.scalars_ro.name", b"ro!"),
    ("rodata.scalars_ro.names[1]", b"ok"),
    ("rodata.scalars_ro.e16", 7),
    ("rodata.scalars_ro.e64", 1),
    ("rodata.scalars_ro.wide", (1 << 127).to_bytes(16, "little")),
    *_bits("rodata.bits_ro"),
]

_STEP = re.compile(r"\.?(\w+)|\[(\d+)\]")


def _steps(path: str) -> list[str | int]:
    return [name or int(index) for name, index in _STEP.findall(path)]


def read(skel: Any, path: str) -> Any:
    node = skel
    for step in _steps(path):
        node = node[step] if isinstance(step, int) else getattr(node, step)
    if isinstance(node, (int, float, bytes)):
        return node
    return bytes(node)  # an __int128 reads as its 16 little-endian bytes


def write(skel: Any, path: str, value: Any) -> None:
    *parents, last = _steps(path)
    node = skel
    for step in parents:
        node = node[step] if isinstance(step, int) else getattr(node, step)
    if isinstance(last, int):
        node[last] = value
    elif isinstance(value, bytes) and not isinstance(getattr(node, last), bytes):
        getattr(node, last)[:] = value  # __int128
    else:
        setattr(node, last, value)


def _expected_checks() -> int:
    """How many comparisons ``check`` makes: one per X() line of the C lists."""
    text = SOURCE.read_text()
    per_bits = len(re.findall(r"^\tX\(s\.", text, re.MULTILINE))
    plain = len(re.findall(r"^\tX\((?!s\.)", text, re.MULTILINE))
    return plain + per_bits * text.count("\tBITS_VALUES(X, ")


@pytest.fixture(scope="module")
def values_skel(skeleton_module: Callable[[str], ModuleType]) -> ModuleType:
    return skeleton_module("types_values")


def test_program_writes_every_field_and_python_reads_each_back(
    values_skel: ModuleType,
) -> None:
    with values_skel.TypesValuesBpf.open() as skel:
        # Initial values come from the object's .rodata, before load.
        assert skel.rodata.scalars_ro.i == 7
        assert skel.rodata.scalars_ro.name == b"ro"
        assert (skel.rodata.bits_ro.neg, skel.rodata.bits_ro.cross) == (-3, 0x321)
        skel.load()
        assert skel.progs.fill.test_run().retval == 0
        wrong = [
            f"{path}: {got!r} != {expected!r}"
            for path, expected in RW_VALUES
            if (got := read(skel, path)) != expected
        ]
        assert not wrong, "\n".join(wrong)
        assert skel.bss.grid_bss.cells[2].fl != 0.0  # raw[] and fl share bytes
        events = skel.maps.events.drain()
        assert [type(e) for e in events] == [values_skel.event]
        assert (events[0].pid, events[0].comm, events[0].ts) == (42, b"evt", -1)


def test_python_writes_every_field_and_the_program_reads_each_back(
    values_skel: ModuleType,
) -> None:
    with values_skel.TypesValuesBpf.open() as skel:
        for path, value in RO_VALUES:
            write(skel, path, value)
        skel.load()
        for path, value in RW_VALUES:
            write(skel, path, value)
        skel.progs.check.test_run()
        assert skel.bss.checks == _expected_checks()
        assert skel.bss.bad == 0, f"check #{skel.bss.bad} of RW_VALUES+RO_VALUES failed"
        # The check sees a one-bit change in a bitfield between two others.
        skel.bss.bits_bss.top ^= 1
        skel.progs.check.test_run()
        assert skel.bss.bad != 0
        assert (skel.bss.bits_bss.wide, skel.bss.bits_bss.se) == (-0xFEDCBA98, -1234)


def test_char_array_keys_and_values_are_bytes(values_skel: ModuleType) -> None:
    """``comm_t`` (``char[16]``) keys, values and ring buffer records read as all
    their bytes, as their annotation ``bytes`` says; a shorter write is padded with
    NULs."""
    with values_skel.TypesValuesBpf.open_and_load() as skel:
        skel.progs.fill.test_run()
        fill = b"fill".ljust(16, b"\0")
        assert skel.maps.comms[0] == fill
        assert list(skel.maps.by_comm.items()) == [(fill, 1)]
        key = next(iter(skel.maps.by_comm.keys()))
        assert skel.maps.by_comm[key] == 1 and key.rstrip(b"\0") == b"fill"
        assert skel.maps.comm_events.drain() == [fill]  # RingBuf[bytes]
        skel.maps.comms[1] = b"py"
        skel.maps.by_comm[b"py"] = 2
        assert skel.progs.check_maps.test_run().retval == 0
        with pytest.raises(MapError, match="17 bytes given, at most 16 expected"):
            skel.maps.comms[1] = b"x" * 17
        with pytest.raises(MapError, match="key: expected bytes, got int"):
            skel.maps.by_comm[5] = 1


def test_enum_companions_hold_the_c_enumerators(values_skel: ModuleType) -> None:
    assert values_skel.v_u8.V_U8_B == 0xF1
    assert values_skel.v_s16_t.V_S16_NEG == -1234  # a typedef names the IntEnum
    assert values_skel.v_u32.V_U32_BIG == 0xFEDCBA98
    assert values_skel.v_s64.V_S64_NEG == -0x123456789
