"""Maps that hold kernel objects, pinning, maps of their own and stack traces.

``maps_fds.bpf.c`` declares maps of maps and a prog array whose initial slots come
from ``.values = { ... }`` (ELF relocations in ``.maps``), a map pinned by name and
a stack trace map filled by a tracepoint.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from conftest import open_fds
from skelgen_runtime import (
    ArrayMap,
    BPFObject,
    HashMap,
    LoadError,
    Map,
    MapError,
    MapType,
)

pytestmark = pytest.mark.usefixtures("root_only")

BPFFS = Path("/sys/fs/bpf")


@pytest.fixture
def module(skeleton_module: Callable[[str], ModuleType]) -> ModuleType:
    return skeleton_module("maps_fds")


@pytest.fixture
def pin_root() -> Iterator[Path]:
    root = BPFFS / f"skelgen-test-{uuid.uuid4().hex[:12]}"
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def skel(module: ModuleType, pin_root: Path) -> Iterator[Any]:
    with module.MapsFdsBpf.open(pin_root=str(pin_root)) as loaded:
        loaded.load()
        yield loaded


def inner_value(skel: Any, program: Any, key: int) -> int | None:
    """What the program reads at index 0 of the inner map at ``key``."""
    skel.bss.key_in = key
    program.test_run()
    return int(skel.bss.results[0]) if skel.bss.found else None


def test_map_of_maps_slots_from_values_and_by_hand(skel: Any) -> None:
    maps = skel.maps
    maps.inner_a[0] = 11
    maps.inner_b[0] = 22
    read_array, read_hash = skel.progs.outer_array_get, skel.progs.outer_hash_get
    assert inner_value(skel, read_array, 0) == 11  # .values = { [0] = &inner_a, ...
    assert inner_value(skel, read_array, 2) == 22
    assert inner_value(skel, read_array, 1) is None
    assert inner_value(skel, read_hash, 3) == 22
    assert maps.outer_array[0] == maps.inner_a.id  # reads give the inner map's id
    assert sorted(maps.outer_array.keys()) == [0, 2]
    with maps.outer_array.inner(2, value_type=ctypes.c_uint64) as opened:
        assert opened[0] == 22

    maps.outer_array[1] = maps.inner_b  # set by hand
    assert inner_value(skel, read_array, 1) == 22
    with ArrayMap.create(MapType.ARRAY, 4, 8, 4) as own:
        own[0] = 33
        maps.outer_hash[5] = own
        assert inner_value(skel, read_hash, 5) == 33
        del maps.outer_hash[5]
    assert inner_value(skel, read_hash, 5) is None
    with Map.create(MapType.ARRAY, 4, 16, 4) as wrong_size, pytest.raises(MapError):
        maps.outer_array[3] = wrong_size


def test_inner_map_template_set_by_hand(module: ModuleType, pin_root: Path) -> None:
    def as_map_of_maps(skel: Any) -> Any:
        m = skel.maps.pinned_counts  # made a hash of maps before load
        skel.progs.pinned_add.autoload = False  # its program wants a plain hash
        m.pin_path = None
        m.set_type(MapType.HASH_OF_MAPS)
        m.value_size = 4
        m.value_type = None  # values are now inner maps (ids)
        return m

    with module.MapsFdsBpf.open(pin_root=str(pin_root)) as skel:
        as_map_of_maps(skel)
        with pytest.raises(LoadError, match="needs an inner map"):
            skel.load()
    with (
        module.MapsFdsBpf.open(pin_root=str(pin_root)) as skel,
        HashMap.create(MapType.HASH, 4, 4, 8) as template,
    ):
        outer = as_map_of_maps(skel)
        outer.set_inner_map(template)
        skel.load()
        assert outer.info().type == MapType.HASH_OF_MAPS
        outer[1] = template
        assert outer[1] == template.id
        with (
            ArrayMap.create(MapType.ARRAY, 4, 4, 8) as other_kind,
            pytest.raises(MapError),
        ):
            outer[2] = other_kind


def test_prog_array_tail_calls(skel: Any) -> None:
    def dispatch(key: int) -> tuple[int, int]:
        skel.bss.key_in = key
        retval = skel.progs.dispatch.test_run().retval
        return retval, int(skel.bss.results[1])

    assert dispatch(0) == (1, 111)  # .values = { [0] = (void *)&tail_a }
    assert dispatch(1) == (99, 0)  # empty slot: the tail call falls through
    skel.maps.jump[1] = skel.progs.tail_b
    assert dispatch(1) == (2, 222)
    assert sorted(skel.maps.jump.keys()) == [0, 1]
    del skel.maps.jump[0]
    assert dispatch(0) == (99, 0)


def test_pinned_by_name_is_reused_by_the_next_load(
    module: ModuleType, pin_root: Path
) -> None:
    path = pin_root / "pinned_counts"
    with module.MapsFdsBpf.open(pin_root=str(pin_root)) as first:
        first.load()
        assert path.exists() and first.maps.pinned_counts.pinned
        first.maps.pinned_counts[1] = 5
        first.bss.key_in = 1
        first.progs.pinned_add.test_run()
        first_id = first.maps.pinned_counts.id
    assert path.exists()  # outlives the object, as with libbpf

    with module.MapsFdsBpf.open(pin_root=str(pin_root)) as second:
        second.load()
        assert second.maps.pinned_counts.id == first_id
        assert second.maps.pinned_counts[1] == 6
        second.bss.key_in = 1
        second.progs.pinned_add.test_run()
        with Map.from_pinned(str(path)) as opened:
            assert isinstance(opened, HashMap) and opened[1] == 7

    with module.MapsFdsBpf.open(pin_root=str(pin_root)) as third:
        third.maps.pinned_counts.set_max_entries(16)
        with pytest.raises(LoadError, match="max_entries 8 there, 16 here"):
            third.load()


def test_pin_unpin_from_pinned_from_id(pin_root: Path) -> None:
    before = open_fds()
    pin_root.mkdir()
    path = str(pin_root / "own")
    with HashMap.create(MapType.HASH, 4, 8, 16, name="own") as own:
        own.key_type = own.value_type = None
        own[b"\x01\x00\x00\x00"] = b"\x02" + bytes(7)
        own.pin(path)
        assert os.path.exists(path)
        with Map.from_pinned(
            path, key_type=ctypes.c_uint32, value_type=ctypes.c_uint64
        ) as m:
            assert type(m) is HashMap and m[1] == 2
            m[3] = 4
        with HashMap.from_id(own.id, key_type=ctypes.c_uint32) as m:
            assert m.info().name == "own" and m[3] == (4).to_bytes(8, "little")
        with pytest.raises(MapError, match="not a ArrayMap"):
            ArrayMap.from_pinned(path)
        own.unpin()
        assert not os.path.exists(path) and not own.pinned
    with pytest.raises(MapError, match="ENOENT"):
        Map.from_pinned(path)
    assert open_fds() == before


def test_stack_trace_map(skel: Any) -> None:
    skel.bss.target_pid = os.getpid()
    skel.attach()
    os.getppid()
    skel.detach()
    user_id, kernel_id = skel.data.user_stack_id, skel.data.kernel_stack_id
    assert user_id >= 0 and kernel_id >= 0
    user_stack = skel.maps.stacks.walk(user_id)
    kernel_stack = skel.maps.kernel_stacks.walk(kernel_id)
    assert user_stack and kernel_stack
    assert all(ip >= 0xFFFF800000000000 for ip in kernel_stack)
    executable = []
    with open("/proc/self/maps") as f:
        for line in f:
            span, perms = line.split()[:2]
            if "x" in perms:
                low, high = (int(x, 16) for x in span.split("-"))
                executable.append((low, high))
    # the innermost user frame is inside this process's code (libc's syscall stub)
    assert any(low <= user_stack[0] < high for low, high in executable)
    assert skel.maps.stacks[user_id][: 8 * len(user_stack)] == b"".join(
        ip.to_bytes(8, "little") for ip in user_stack
    )


def test_plain_runtime_gets_ints_from_btf(
    module: ModuleType, build_bpf: Callable[[str], Path]
) -> None:
    with BPFObject.open(build_bpf("maps_fds"), pin_root="/nonexistent") as obj:
        obj.maps["pinned_counts"].pin_path = None  # no pinning for this one
        obj.load()
        counts = obj.maps["pinned_counts"]
        counts[1] = 2
        assert counts.items() == [(1, 2)]
        assert obj.maps["jump"].keys() == [0]  # an index, though BTF has no key type
