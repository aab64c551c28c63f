"""``skelgen vmlinux`` on the running kernel's BTF, against bpftool's vmlinux.h.

* every CO-RE test program (``tests/bpf/core_*``, ``tool_*``) compiled against
  skelgen's header is the program compiled against bpftool's: same
  instructions, same CO-RE relocations (kind, type, access string);
* gcc lays out every uniquely named struct and union of the kernel the same
  way under both headers (the gcc oracle of ``tests/oracle/c_layout.py``), and
  as BTF says, bitfields included;
* the header is byte-identical from run to run, and whether the BTF is decoded
  at once or type by type.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from build_cache import BPF_SOURCES, BuildCache, system_includes
from c_layout import TypeLayout, header_layouts
from conftest import require
from libbpf_oracle import VMLINUX_BTF, compile_bpf
from skelgen_runtime.btf import Btf, types as bt
from skelgen_runtime.btf.lazy import LazyBtf
from skelgen_runtime.obj.elf import read_object_file

from skelgen.c_decl import type_name
from skelgen.c_header import c_header

CORE_SOURCES = sorted(
    p.name.removesuffix(".bpf.c")
    for pattern in ("core_*.bpf.c", "tool_*.bpf.c")
    for p in BPF_SOURCES.glob(pattern)
)
GENERATION_SECONDS = 30  # a few seconds here; generous for a loaded machine


@pytest.fixture(scope="module")
def our_include(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory with skelgen's vmlinux.h, written by the command."""
    require(VMLINUX_BTF.is_file(), f"no kernel BTF at {VMLINUX_BTF}")
    directory = tmp_path_factory.mktemp("skelgen-include")
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "skelgen", "vmlinux", "-o", directory / "vmlinux.h"],
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.monotonic() - started
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    print(f"skelgen vmlinux: {elapsed:.1f} s")
    assert elapsed < GENERATION_SECONDS
    return directory


def test_header_is_byte_identical_across_runs_and_btf_models(our_include: Path) -> None:
    written = (our_include / "vmlinux.h").read_text()
    data = VMLINUX_BTF.read_bytes()
    assert c_header(Btf.from_bytes(data)) == written
    assert c_header(LazyBtf(data)) == written


def _programs(path: Path) -> dict[str, tuple[bytes, list[tuple[int, int, str, str]]]]:
    """Per program: its instructions and its CO-RE relocations, types by name."""
    spec = read_object_file(path)
    return {
        name: (
            program.function.insns,
            [
                (r.insn_off, r.kind, type_name(spec.btf, r.type_id), r.access_str)
                for r in program.function.core_relos
            ],
        )
        for name, program in spec.programs.items()
    }


@pytest.mark.parametrize("source", CORE_SOURCES)
def test_core_programs_compile_as_with_bpftools_header(
    source: str,
    our_include: Path,
    build_bpf: Callable[[str], Path],
    tmp_path: Path,
) -> None:
    reference = _programs(build_bpf(source))  # against bpftool's vmlinux.h
    ours = compile_bpf(
        BPF_SOURCES / f"{source}.bpf.c",
        tmp_path,
        include_dirs=[our_include, *system_includes()],
    )
    assert _programs(ours) == reference
    assert any(relos for _, relos in reference.values()) or source == "core_externs"


def _check_against_btf(btf: Btf, key: str, layout: TypeLayout) -> int:
    """gcc's offsets of a type's direct members are BTF's; returns how many."""
    keyword, name = key.split(" ")
    kind = bt.Struct if keyword == "struct" else bt.Union
    (type_id,) = btf.find(name, kind)
    item = btf[type_id]
    assert isinstance(item, (bt.Struct, bt.Union))
    assert layout.size == item.size, key
    by_name = {m.name: m for m in layout.members}
    checked = 0
    for member in item.members:
        found = by_name.get(member.name) if member.name else None
        if found is None:
            continue  # anonymous members are reached through their own members
        if member.bitfield_size:
            assert (found.bit_offset, found.bit_size) == (
                member.bit_offset,
                member.bitfield_size,
            ), f"{key}.{member.name}"
        else:
            assert found.offset * 8 == member.bit_offset, f"{key}.{member.name}"
        checked += 1
    return checked


def test_kernel_struct_layouts_match_bpftools_header_and_btf(
    our_include: Path, build_cache: BuildCache, tmp_path: Path
) -> None:
    bpftool_header = build_cache.built_vmlinux_header().read_text()
    theirs = header_layouts(
        VMLINUX_BTF, bpftool_header, tmp_path / "bpftool", fix_enum_sizes=True
    )
    ours = header_layouts(
        VMLINUX_BTF, (our_include / "vmlinux.h").read_text(), tmp_path / "skelgen"
    )
    assert ours.keys() == theirs.keys()
    assert len(ours) > 5000  # every uniquely named struct and union of the kernel
    differing = [key for key in ours if ours[key] != theirs[key]]
    assert not differing, differing[:20]
    btf = Btf.from_bytes(VMLINUX_BTF.read_bytes())
    members = sum(_check_against_btf(btf, key, ours[key]) for key in ours)
    bitfields = sum(
        m.bit_size is not None for layout in ours.values() for m in layout.members
    )
    print(f"{len(ours)} types, {members} direct members, {bitfields} bitfields")
    assert bitfields > 100
