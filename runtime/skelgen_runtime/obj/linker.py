"""Link one program with the subprograms it calls.  Pure: no syscalls.

Like libbpf, every ``.text`` function a program reaches (by call or by taking its
address for a callback) is appended once after the program's own instructions; call
and ``ld_imm64`` immediates are rewritten to the new relative offsets, and the
``.BTF.ext`` records of each appended function move with it.
"""

from __future__ import annotations

import struct

from ..btf.ext import CoreRelo, FuncInfo, LineInfo, RecordT, shift
from ..errors import ObjectError
from ..lean.records import dataclass, field
from ..uapi.bpf import PSEUDO_CALL, PSEUDO_FUNC
from .spec import (
    INSN_SIZE,
    FunctionSpec,
    ObjectSpec,
    ProgramSpec,
    Relocation,
    RelocKind,
)

_IMM = struct.Struct("<i")
_UIMM = struct.Struct("<I")
_OFF = struct.Struct("<h")
_OPCODE_CALL = 0x85


@dataclass
class LinkedProgram:
    """A program's final instruction stream and what still needs kernel objects."""

    insns: bytearray
    relocations: list[Relocation] = field(default_factory=list)  # insn: absolute index
    func_info: list[FuncInfo] = field(default_factory=list)  # insn_off in instructions
    line_info: list[LineInfo] = field(default_factory=list)
    core_relos: list[CoreRelo] = field(default_factory=list)  # insn_off in bytes

    @property
    def insn_count(self) -> int:
        return len(self.insns) // INSN_SIZE


def get_imm(insns: bytearray | bytes, index: int) -> int:
    value: int = _IMM.unpack_from(insns, index * INSN_SIZE + 4)[0]
    return value


def set_imm(insns: bytearray, index: int, value: int) -> None:
    """Store the low 32 bits of ``value`` (signed or not) as the immediate."""
    _UIMM.pack_into(insns, index * INSN_SIZE + 4, value & 0xFFFFFFFF)


def set_off(insns: bytearray, index: int, value: int) -> None:
    _OFF.pack_into(insns, index * INSN_SIZE + 2, value)


def set_src_reg(insns: bytearray, index: int, src_reg: int) -> None:
    regs = insns[index * INSN_SIZE + 1]
    insns[index * INSN_SIZE + 1] = (src_reg << 4) | (regs & 0x0F)


def link_program(obj: ObjectSpec, program: ProgramSpec) -> LinkedProgram:
    linked = LinkedProgram(bytearray(program.function.insns))
    placed: dict[int, int] = (
        {}
    )  # .text byte offset of a subprogram → its first insn here
    queue: list[tuple[FunctionSpec, int]] = [(program.function, 0)]
    _add_ext_records(linked, program.function, 0)
    for function, base in queue:
        relocated = {r.insn for r in function.relocations}
        for reloc in function.relocations:
            at = base + reloc.insn
            if reloc.kind == RelocKind.CALL:
                target = reloc.offset + (get_imm(linked.insns, at) + 1) * INSN_SIZE
            elif reloc.kind == RelocKind.SUBPROG_ADDR:
                target = reloc.offset + get_imm(linked.insns, at)
            else:
                linked.relocations.append(
                    Relocation(
                        at, reloc.kind, reloc.symbol, reloc.section, reloc.offset
                    )
                )
                continue
            start = _place(
                obj, linked, placed, queue, target, f"{function.name}+{reloc.insn}"
            )
            set_imm(linked.insns, at, start - (at + 1))
            if reloc.kind == RelocKind.SUBPROG_ADDR:
                set_src_reg(linked.insns, at, PSEUDO_FUNC)
        # Calls inside .text that the compiler resolved itself carry no relocation.
        if function.section == ".text":
            for i in range(function.insn_count):
                at = base + i
                if i in relocated or not _is_pseudo_call(linked.insns, at):
                    continue
                target = (
                    function.offset + (i + get_imm(linked.insns, at) + 1) * INSN_SIZE
                )
                start = _place(
                    obj, linked, placed, queue, target, f"{function.name}+{i}"
                )
                set_imm(linked.insns, at, start - (at + 1))
    linked.func_info.sort(key=lambda r: r.insn_off)
    linked.line_info.sort(key=lambda r: r.insn_off)
    linked.func_info = [_in_insns(r) for r in linked.func_info]
    linked.line_info = [_in_insns(r) for r in linked.line_info]
    return linked


def _is_pseudo_call(insns: bytearray, index: int) -> bool:
    return (
        insns[index * INSN_SIZE] == _OPCODE_CALL
        and insns[index * INSN_SIZE + 1] >> 4 == PSEUDO_CALL
    )


def _place(
    obj: ObjectSpec,
    linked: LinkedProgram,
    placed: dict[int, int],
    queue: list[tuple[FunctionSpec, int]],
    target: int,
    where: str,
) -> int:
    """The first instruction of the subprogram at .text byte ``target``, appending it
    (and queueing its own relocations) the first time it is reached."""
    if target in placed:
        return placed[target]
    sub = obj.subprograms.get(target)
    if sub is None:
        raise ObjectError(f"{where}: no .text function starts at byte {target}")
    start = linked.insn_count
    placed[target] = start
    linked.insns += sub.insns
    queue.append((sub, start))
    _add_ext_records(linked, sub, start)
    return start


def _add_ext_records(linked: LinkedProgram, function: FunctionSpec, start: int) -> None:
    delta = start * INSN_SIZE
    linked.func_info += [shift(r, delta) for r in function.func_info]
    linked.line_info += [shift(r, delta) for r in function.line_info]
    linked.core_relos += [shift(r, delta) for r in function.core_relos]


def _in_insns(record: RecordT) -> RecordT:
    """The kernel counts func_info/line_info offsets in instructions, ELF in bytes."""
    return shift(record, record.insn_off // INSN_SIZE - record.insn_off)
