"""Subskeletons: a BPF library's globals, maps and programs, typed, inside an object
linked with it by ``bpftool gen object``.

``subskel_app.bpf.c``'s own globals come first in each data section of the linked
object, so the library's variables sit at other offsets than in the library alone:
the subskeleton finds them by name.  ``app_bump`` calls the library's ``lib_bump``,
which adds ``lib_step`` to ``lib_counter`` (at most ``lib_limit``) and counts its
calls in ``lib_calls``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest
from build_cache import BuildCache, bpf_source
from conftest import import_file
from skelgen_runtime import BPFError, BPFObject, FrozenError
from skelgen_runtime.features import maps as map_features

pytestmark = pytest.mark.usefixtures("root_only")


@pytest.fixture(scope="module")
def linked(build_cache: BuildCache) -> Path:
    objects = [
        build_cache.bpf_object(bpf_source(n)) for n in ("subskel_app", "subskel_lib")
    ]
    return build_cache.linked_object(objects, "subskel_app_linked.bpf.o")


@pytest.fixture(scope="module")
def lib_module(build_cache: BuildCache) -> ModuleType:
    path = build_cache.subskeleton(build_cache.bpf_object(bpf_source("subskel_lib")))
    return import_file(path, "subskel_lib_subskel")


def test_library_globals_read_and_written_through_the_final_skeleton(
    build_cache: BuildCache, linked: Path, lib_module: ModuleType
) -> None:
    app = import_file(build_cache.skeleton(linked), "subskel_app_linked_skel")
    skel = app.SubskelAppLinkedBpf.open()
    try:
        lib = lib_module.SubskelLibBpf(skel)
        # The library's variables moved: its .bss starts with the application's.
        assert skel.obj.spec.datasecs[".bss"].variables[-1].name == "lib_counter"
        assert lib.data.lib_step == 1 and lib.rodata.lib_limit == 1000
        lib.data.lib_step = 5  # before load: what the kernel starts with
        lib.rodata.lib_limit = 12
        skel.load()
        bump = skel.progs.app_bump
        assert [bump.test_run().retval for _ in range(3)] == [5, 10, 12]
        assert lib.bss.lib_counter == 12
        assert skel.bss.app_bss[0] == 3 * (1 + 7)  # the application's own, untouched
        lib.bss.lib_counter = 2  # after load: the BPF program sees it
        assert bump.test_run().retval == 7
        assert lib.maps.lib_calls[0] == 4
        lib.progs.lib_reset.test_run()
        assert lib.bss.lib_counter == 0
        with pytest.raises(FrozenError):
            lib.rodata.lib_limit = 99
    finally:
        skel.destroy()


def test_binds_to_a_plain_object(linked: Path, lib_module: ModuleType) -> None:
    with BPFObject.open(linked) as obj:
        lib = lib_module.SubskelLibBpf(obj)
        lib.data.lib_step = 3
        obj.load()
        assert obj.programs["app_bump"].test_run().retval == 3
        assert lib.bss.lib_counter == 3


def test_an_object_without_the_library_is_refused(
    build_bpf: Callable[[str], Path], lib_module: ModuleType
) -> None:
    with (
        BPFObject.open(build_bpf("globals")) as obj,
        pytest.raises(BPFError, match="was it linked with the library"),
    ):
        lib_module.SubskelLibBpf(obj)


def test_library_globals_go_through_the_map_without_mmap(
    linked: Path, lib_module: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without BPF_F_MMAPABLE (< 5.5) the sections are private copies kept in step
    # with their maps, as for a skeleton.
    monkeypatch.setattr(map_features, "has_mmapable_arrays", lambda: False)
    with BPFObject.open(linked) as obj:
        lib = lib_module.SubskelLibBpf(obj)
        lib.data.lib_step = 4
        obj.load()
        assert obj.datasec(".bss").map_backed
        assert obj.programs["app_bump"].test_run().retval == 4
        assert lib.bss.lib_counter == 4  # a read refreshes the copy from the map
        lib.bss.lib_counter = 10  # a field write goes to the map
        assert obj.programs["app_bump"].test_run().retval == 14
        with pytest.raises(FrozenError):
            lib.rodata.lib_limit = 99
