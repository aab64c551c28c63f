"""``map_extra`` read as libbpf's ``get_map_field_long`` reads it: ``__uint()`` or
an enum of one value (``__ulong()``), ENUM64 for an arena's 64-bit start address
(tests/bpf/maps_extra.bpf.c; tests/kernel/test_map_extra.py loads it)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from skelgen_runtime.obj.elf import read_object_file


def test_map_extra_of_an_enum_and_of_an_enum64(
    build_bpf: Callable[[str], Path],
) -> None:
    maps = read_object_file(build_bpf("maps_extra")).maps
    assert maps["bloom"].map_extra == 5
    assert maps["arena"].map_extra == 1 << 44
    assert read_object_file(build_bpf("maps_bloom")).maps["bloom"].map_extra == 3
