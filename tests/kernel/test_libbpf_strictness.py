"""Where libbpf refuses an object, skelgen does too, with a message that says why:
a ring buffer without a size, a prog-array slot naming a program that is not loaded,
a legacy ``maps`` section nothing uses.  Each case is checked against libbpf itself
(the oracle harness)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import libbpf_oracle
import pytest
from conftest import open_fds
from kernel_features import with_syscall_programs
from skelgen_runtime import BPFObject, LoadError, ObjectError

from fuzz.model import Elf, Section

pytestmark = pytest.mark.usefixtures("root_only")


def test_a_ring_buffer_without_a_size_fails_the_load(
    build_bpf: Callable[[str], Path],
) -> None:
    path = build_bpf("unsized_ringbuf")
    assert not libbpf_oracle.run_libbpf(path).load_ok
    before = open_fds()
    with (
        BPFObject.open(path) as obj,
        pytest.raises(LoadError, match="map unsized: a ring buffer needs a size"),
    ):
        obj.load()
    assert open_fds() == before

    def sized_and_loaded() -> BPFObject:
        obj = BPFObject.open(path)
        obj.maps["unsized"].set_max_entries(5000)  # rounded up as libbpf does
        obj.load()
        return obj

    with with_syscall_programs(sized_and_loaded) as obj:  # sized before load: works
        assert obj.maps["unsized"].info().max_entries == 8192
        obj.programs["emit"].test_run()
        assert obj.maps["unsized"].drain() == [(42).to_bytes(8, "little")]


def test_a_prog_array_slot_naming_an_unloaded_program_fails_the_load(
    build_bpf: Callable[[str], Path],
) -> None:
    path = build_bpf("maps_fds")  # jump = { [0] = &tail_a }
    with BPFObject.open(path) as obj:
        everything_but_tail_a = [p for p in obj.programs if p != "tail_a"]
    libbpf = libbpf_oracle.run_libbpf(path, load_only=everything_but_tail_a)
    assert not libbpf.load_ok
    before = open_fds()
    with BPFObject.open(path, pin_root="/nonexistent") as obj:
        obj.maps["pinned_counts"].pin_path = None
        obj.programs["tail_a"].autoload = False
        with pytest.raises(LoadError, match="map jump: slot 0 holds tail_a, which is"):
            obj.load()
    assert open_fds() == before


def test_a_legacy_maps_section_fails_the_open_even_unused(
    build_bpf: Callable[[str], Path], tmp_path: Path
) -> None:
    # cilium/ebpf's invalid_map.c and iproute2_map_compat.c: programs none, maps
    # in SEC("maps") as struct bpf_map_def; libbpf 1.0+ refuses every such object.
    elf = Elf.parse(build_bpf("globals").read_bytes())
    license_header = elf.sections[elf.find(b"license")].header
    header = list(license_header)
    header[0] = elf.add_string(elf.shstrndx, b"maps")
    elf.sections.append(Section(header, bytes(20)))  # one struct bpf_map_def
    path = tmp_path / "legacy_maps.bpf.o"
    path.write_bytes(elf.to_bytes())
    libbpf = libbpf_oracle.run_libbpf(path)
    assert not libbpf.load_ok
    assert "legacy map definitions in 'maps' section" in libbpf.stderr
    before = open_fds()
    with pytest.raises(ObjectError, match="legacy map definitions in section 'maps'"):
        BPFObject.open(path)
    assert open_fds() == before
