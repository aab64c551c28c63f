"""``map_extra`` declared with libbpf's ``__ulong()`` (an enum of one value, ENUM64
for 64 bits) reaches the kernel as libbpf sends it: a bloom filter's number of hash
functions, an arena's start address (tests/bpf/maps_extra.bpf.c)."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType

import pytest
from skelgen_runtime import LoadError
from skelgen_runtime.features.maps import has_map_type
from skelgen_runtime.uapi.bpf import MapType

pytestmark = pytest.mark.usefixtures("root_only")


def test_an_enum_map_extra_sets_a_bloom_filter_s_hash_functions(
    skeleton_module: Callable[[str], ModuleType],
) -> None:
    if not has_map_type(MapType.BLOOM_FILTER):
        pytest.skip("this kernel has no bloom filter maps (Linux 5.16+)")
    with skeleton_module("maps_extra").MapsExtraBpf.open() as skel:
        skel.maps.arena.autocreate = False
        skel.load()
        assert skel.maps.bloom.info().map_extra == 5
        skel.maps.bloom.push(42)
        skel.bss.key_in = 42
        assert skel.progs.bloom_check.test_run().retval == 0
        assert skel.bss.found == 1


def test_an_enum64_map_extra_places_an_arena(
    skeleton_module: Callable[[str], ModuleType],
) -> None:
    module = skeleton_module("maps_extra")
    if not has_map_type(MapType.ARENA):
        with module.MapsExtraBpf.open() as skel:
            skel.maps.bloom.autocreate = False  # the older kernels lack it too
            with pytest.raises(LoadError) as refused:
                skel.load()
        assert str(refused.value).startswith("create map arena: ")
        return
    with module.MapsExtraBpf.open_and_load() as skel:
        assert skel.maps.arena.info().map_extra == 1 << 44
