"""The spec a generated module embeds (obj.packed): what the ELF reader makes of the
embedded object, unpacked anew at every open, refused when another runtime packed it."""

from __future__ import annotations

import enum
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from skelgen_runtime.obj import packed
from skelgen_runtime.obj.elf import read_object

from skelgen.embed import packed_spec, strip_debug

OBJECTS = (
    "globals",
    "maps_kinds",
    "maps_fds",
    "hidden_subprog",
    "tool_execsnoop",
    "core_externs",
    "usdt_probes",
)


def plain(item: Any) -> Any:
    """Everything in a spec as builtin values, to compare two specs by value."""
    if isinstance(item, (list, tuple)):
        return [plain(i) for i in item]
    if isinstance(item, dict):
        return {plain(k): plain(v) for k, v in item.items()}
    if hasattr(item, "__dict__") and not isinstance(item, enum.Enum):
        return (type(item).__qualname__, plain(vars(item)))
    return item


@pytest.mark.parametrize("name", OBJECTS)
def test_unpacked_spec_is_what_the_reader_makes(
    build_bpf: Callable[[str], Path], name: str
) -> None:
    stripped = strip_debug(build_bpf(name).read_bytes())
    data = packed_spec(stripped, name)
    assert data is not None
    unpacked = packed.unpack(data)
    assert unpacked is not None
    read = read_object(stripped, name, origin=name)
    assert plain(unpacked) == plain(read)


def test_every_unpack_is_a_new_spec(build_bpf: Callable[[str], Path]) -> None:
    data = packed_spec(strip_debug(build_bpf("globals").read_bytes()), "globals")
    assert data is not None
    first, second = packed.unpack(data), packed.unpack(data)
    assert first is not None and second is not None
    first.datasecs[".data"].data[0] ^= 0xFF  # what opening and writing globals does
    first.programs["run_all"].autoload = False
    assert second.datasecs[".data"].data[0] != first.datasecs[".data"].data[0]
    assert second.programs["run_all"].autoload
    # shared objects stay shared inside one spec: a datasec map and its section
    assert first.maps[".data"].datasec is first.datasecs[".data"]


def test_another_runtime_s_spec_is_refused(
    build_bpf: Callable[[str], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = packed_spec(strip_debug(build_bpf("globals").read_bytes()), "globals")
    assert data is not None
    monkeypatch.setattr(packed, "_signature", b"\0" * 8)  # a runtime of other classes
    assert packed.unpack(data) is None
    assert packed.unpack(b"not zlib") is None


def test_a_spec_holding_other_classes_is_not_packed(
    build_bpf: Callable[[str], Path],
) -> None:
    spec = read_object(build_bpf("globals").read_bytes(), "globals")
    spec.maps[".data"].initial_slots[0] = Path("/")  # type: ignore[assignment]
    assert packed.pack(spec) is None
