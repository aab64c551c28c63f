"""USDT argument locations (x86-64): ``"-4@%esi 8@-16(%rbp) -4@$5"`` → :class:`Arg`.

Each argument is ``SIZE@OPERAND``: the size in bytes (1, 2, 4, 8; negative when
signed) and an AT&T assembler operand.  The operands understood are libbpf's:

* ``$5``: a constant;
* ``%rax``, ``%eax``, ``%ax``, ``%al``: a register (any width reads the whole
  register; the size then keeps the low bytes);
* ``-16(%rbp)``, ``(%rsp)``: memory at a register plus a decimal offset;
* ``-96(%rbp,%rax,8)``: memory at base + index * scale + offset (``usdt.bpf.h``
  of libbpf 1.7 and later only).

Anything else (a symbol such as ``counter(%rip)``, ``%ah``, a segment register)
is refused with an error naming the argument.
"""

from __future__ import annotations

import errno
import re

from ..errors import AttachError
from ..lean.enums import IntEnum
from ..lean.records import dataclass

# offsetof(struct pt_regs, ...) on x86-64: the context of a uprobe program.
_PT_REGS_SLOTS = {
    "r15": 0,
    "r14": 8,
    "r13": 16,
    "r12": 24,
    "rbp": 32,
    "rbx": 40,
    "r11": 48,
    "r10": 56,
    "r9": 64,
    "r8": 72,
    "rax": 80,
    "rcx": 88,
    "rdx": 96,
    "rsi": 104,
    "rdi": 112,
    "rip": 128,
    "rsp": 152,
}


def _register_names() -> dict[str, int]:
    """Every name libbpf accepts for a register, at every width → its pt_regs offset."""
    names: dict[str, int] = {"eip": _PT_REGS_SLOTS["rip"]}
    for legacy in ("ax", "bx", "cx", "dx", "si", "di", "bp", "sp"):
        offset = _PT_REGS_SLOTS[f"r{legacy}"]
        low = f"{legacy[0]}l" if legacy[1] == "x" else f"{legacy}l"
        names.update({f"r{legacy}": offset, f"e{legacy}": offset, legacy: offset})
        names[low] = offset
    for number in range(8, 16):
        offset = _PT_REGS_SLOTS[f"r{number}"]
        for suffix in ("", "d", "w", "b"):
            names[f"r{number}{suffix}"] = offset
    names["rip"] = _PT_REGS_SLOTS["rip"]
    return names


PT_REGS_OFFSETS = _register_names()


class ArgKind(IntEnum):
    """``enum __bpf_usdt_arg_type``."""

    CONST = 0
    REG = 1
    REG_DEREF = 2
    SIB = 3


@dataclass(frozen=True)
class Arg:
    """One argument, as ``struct __bpf_usdt_arg_spec`` describes it."""

    size: int  # 1, 2, 4 or 8 bytes
    signed: bool
    kind: ArgKind
    val_off: int = 0  # the constant, or the memory offset (two's complement, 64 bits)
    reg_off: int = 0  # offsetof(struct pt_regs, <register>)
    idx_reg_off: int = 0  # SIB: the index register's offset
    scale_bitshift: int = 0  # SIB: log2 of the scale

    @property
    def bitshift(self) -> int:
        """How many high bits of the 64-bit value ``bpf_usdt_arg()`` clears (or
        sign-extends) to keep ``size`` bytes."""
        return 64 - 8 * self.size


_NUMBER = r"-?\d+"
_SIZE = rf"\s*(?P<size>{_NUMBER})\s*@\s*"
_REG = r"%(?P<{}>[a-z0-9]+)"
_OPERANDS = (
    (
        ArgKind.SIB,
        re.compile(
            rf"{_SIZE}(?P<off>{_NUMBER})?\s*\(\s*{_REG.format('reg')}\s*,\s*"
            rf"{_REG.format('idx')}\s*(?:,\s*(?P<scale>{_NUMBER})\s*)?\)"
        ),
    ),
    (
        ArgKind.REG_DEREF,
        re.compile(rf"{_SIZE}(?P<off>{_NUMBER})?\s*\(\s*{_REG.format('reg')}\s*\)"),
    ),
    (ArgKind.REG, re.compile(rf"{_SIZE}{_REG.format('reg')}")),
    (ArgKind.CONST, re.compile(rf"{_SIZE}\$(?P<off>{_NUMBER})")),
)
_END = re.compile(r"\s+|\s*$")
_SCALE_SHIFTS = {1: 0, 2: 1, 4: 2, 8: 3}


def _refuse(index: int, text: str, why: str) -> AttachError:
    return AttachError(f"USDT argument #{index} {text!r}: {why}", errno=errno.EINVAL)


def _register(index: int, text: str, name: str) -> int:
    try:
        return PT_REGS_OFFSETS[name]
    except KeyError:
        raise _refuse(index, text, f"unsupported register %{name}") from None


def _u64(index: int, text: str, value: int) -> int:
    if not -(1 << 63) <= value < 1 << 64:
        raise _refuse(index, text, f"{value} does not fit in 64 bits")
    return value & ((1 << 64) - 1)


def _parse_one(index: int, text: str, match: re.Match[str], kind: ArgKind) -> Arg:
    size = int(match["size"])
    if abs(size) not in (1, 2, 4, 8):
        raise _refuse(index, text, f"size {abs(size)} is not 1, 2, 4 or 8")
    val_off = _u64(index, text, int(match.groupdict().get("off") or 0))
    if kind == ArgKind.CONST:
        return Arg(abs(size), size < 0, kind, val_off)
    reg_off = _register(index, text, match["reg"])
    if kind != ArgKind.SIB:
        return Arg(abs(size), size < 0, kind, val_off, reg_off)
    scale = int(match["scale"] or 1)
    if scale not in _SCALE_SHIFTS:
        raise _refuse(index, text, f"scale {scale} is not 1, 2, 4 or 8")
    return Arg(
        abs(size),
        size < 0,
        kind,
        val_off,
        reg_off,
        _register(index, text, match["idx"]),
        _SCALE_SHIFTS[scale],
    )


def _match_operand(text: str, position: int) -> tuple[ArgKind, re.Match[str]] | None:
    """The operand starting at ``position``, which must end at a blank or the end."""
    for kind, pattern in _OPERANDS:
        match = pattern.match(text, position)
        if match and _END.match(text, match.end()):
            return kind, match
    return None


def parse_args(text: str) -> list[Arg]:
    """The arguments of a note's argument string, in order (``""``: none)."""
    args: list[Arg] = []
    text = text.rstrip()
    position = len(text) - len(text.lstrip())
    while position < len(text):
        found = _match_operand(text, position)
        if found is None:
            raise _refuse(len(args), text[position:].split()[0], "unrecognised operand")
        kind, match = found
        args.append(_parse_one(len(args), match[0].strip(), match, kind))
        end = _END.match(text, match.end())
        assert end is not None  # _match_operand checked it
        position = end.end()
    return args
