"""Linking programs with their subprograms, checked on a real object's bytes."""

from __future__ import annotations

import struct
from collections.abc import Callable
from pathlib import Path

import pytest
from skelgen_runtime.obj.elf import read_object_file
from skelgen_runtime.obj.linker import link_program
from skelgen_runtime.obj.spec import INSN_SIZE, RelocKind
from skelgen_runtime.uapi.bpf import PSEUDO_CALL, PSEUDO_FUNC, ProgType


def _insns(code: bytes) -> list[tuple[int, int, int]]:
    """(opcode, src_reg, imm) per instruction."""
    out = []
    for i in range(0, len(code), INSN_SIZE):
        opcode, regs, _off, imm = struct.unpack_from("<BBhi", code, i)
        out.append((opcode, regs >> 4, imm))
    return out


@pytest.mark.parametrize(
    "name, called",
    [("run_all", ("scale", "global_add")), ("run_helpers", ("sum_cb",))],
)
def test_subprograms_are_appended_once_and_calls_point_at_them(
    build_bpf: Callable[[str], Path], name: str, called: tuple[str, ...]
) -> None:
    spec = read_object_file(build_bpf("globals"))
    program = spec.programs[name]
    linked = link_program(spec, program)
    subs = {f.name: f for f in spec.subprograms.values()}
    assert {"scale", "global_add", "sum_cb"} <= set(subs)
    expected_len = program.function.insn_count + sum(subs[n].insn_count for n in called)
    assert linked.insn_count == expected_len
    insns = _insns(bytes(linked.insns))
    starts = {info.insn_off for info in linked.func_info}
    # every call and callback address lands on the start of an appended function
    targets = set()
    for index, (opcode, src, imm) in enumerate(insns):
        if (opcode == 0x85 and src == PSEUDO_CALL) or (
            opcode == 0x18 and src == PSEUDO_FUNC
        ):
            targets.add(index + imm + 1)
    assert targets and targets <= starts - {0}
    # one func_info per function, in instruction units, sorted
    assert len(linked.func_info) == 1 + len(called)
    assert [f.insn_off for f in linked.func_info] == sorted(starts)
    assert all(0 <= li.insn_off < linked.insn_count for li in linked.line_info)
    # what remains for the loader is map and data references only
    assert {r.kind for r in linked.relocations} <= {RelocKind.DATA, RelocKind.MAP_FD}


def test_relocations_are_classified_by_target(build_bpf: Callable[[str], Path]) -> None:
    spec = read_object_file(build_bpf("globals"))
    kinds = {
        (r.kind, r.section)
        for name in ("run_all", "run_helpers")
        for r in spec.programs[name].function.relocations
    }
    assert (RelocKind.CALL, ".text") in kinds
    assert (RelocKind.SUBPROG_ADDR, ".text") in kinds
    sections = {s for k, s in kinds if k == RelocKind.DATA}
    assert {".bss", ".data", ".rodata", ".data.custom", ".rodata.custom"} <= sections
    assert any(s.startswith(".rodata.str") for s in sections)


def test_a_question_mark_section_turns_autoload_off(
    build_bpf: Callable[[str], Path],
) -> None:
    """SEC("?raw_tp") is SEC("raw_tp") with autoload off; the "?" is dropped (libbpf's
    bpf_program__init)."""
    programs = read_object_file(build_bpf("globals")).programs
    assert (programs["run_all"].section, programs["run_all"].autoload) == (
        "raw_tp",
        True,
    )
    helpers = programs["run_helpers"]
    assert (helpers.section, helpers.autoload) == ("raw_tp", False)
    assert (
        helpers.kind is not None and helpers.kind.prog_type == ProgType.RAW_TRACEPOINT
    )
