"""``struct __bpf_usdt_spec``: how one probe site's arguments reach ``bpf_usdt_arg()``.

The values of the ``__bpf_usdt_specs`` map are laid out as the object's own
``usdt.bpf.h`` declares them, read from the object's BTF: libbpf 1.7 turned
``arg_type`` into an 8-bit bitfield followed by the SIB fields, which moved
``reg_off`` from byte 12 to byte 14, so no single layout fits every object.
"""

from __future__ import annotations

import errno
from collections.abc import Mapping, Sequence

from ..btf import types as t
from ..btf.btf import AbstractBtf
from ..errors import AttachError
from ..lean.records import dataclass
from . import SPECS_MAP
from .args import Arg, ArgKind

_ARG_FIELDS = ("val_off", "arg_type", "reg_off", "arg_signed", "arg_bitshift")
_SIB_FIELDS = ("idx_reg_off", "scale_bitshift")


@dataclass(frozen=True)
class Field:
    """Where one member lives: its bit offset and width (a bitfield's, or the type's)."""

    bit_offset: int
    bits: int

    def put(self, word: int, value: int) -> int:
        """``word`` with this field set to ``value`` (truncated two's complement)."""
        return word | ((value & ((1 << self.bits) - 1)) << self.bit_offset)


def _layout_error(why: str) -> AttachError:
    return AttachError(
        f"map {SPECS_MAP}: {why} (include <bpf/usdt.bpf.h> to use USDT)",
        errno=errno.EINVAL,
    )


def _struct(btf: AbstractBtf, type_id: int, name: str) -> t.Struct:
    item = btf[btf.resolve(type_id)]
    if not isinstance(item, t.Struct) or item.name != name:
        raise _layout_error(f"value type is not struct {name}")
    return item


def _fields(
    btf: AbstractBtf, struct: t.Struct, required: Sequence[str]
) -> dict[str, Field]:
    found = {
        m.name: Field(m.bit_offset, m.bitfield_size or 8 * btf.size_of(m.type_id))
        for m in struct.members
    }
    missing = [name for name in required if name not in found]
    if missing:
        raise _layout_error(f"struct {struct.name} has no {', '.join(missing)}")
    return found


@dataclass(frozen=True)
class SpecLayout:
    """``struct __bpf_usdt_spec`` and its ``struct __bpf_usdt_arg_spec``, as declared."""

    size: int
    args_offset: int  # bytes
    arg_size: int
    max_args: int
    arg_fields: Mapping[str, Field]
    usdt_cookie: Field
    arg_cnt: Field

    @property
    def has_sib(self) -> bool:
        """Whether this ``usdt.bpf.h`` reads base + index * scale operands."""
        return all(name in self.arg_fields for name in _SIB_FIELDS)

    @classmethod
    def from_btf(cls, btf: AbstractBtf, value_type_id: int) -> SpecLayout:
        """The layout of the specs map's value type ``value_type_id``."""
        spec = _struct(btf, value_type_id, "__bpf_usdt_spec")
        members = _fields(btf, spec, ("args", "usdt_cookie", "arg_cnt"))
        args_member = next(m for m in spec.members if m.name == "args")
        array = btf[btf.resolve(args_member.type_id)]
        if not isinstance(array, t.Array):
            raise _layout_error("struct __bpf_usdt_spec.args is not an array")
        arg_spec = _struct(btf, array.elem_type, "__bpf_usdt_arg_spec")
        return cls(
            size=spec.size,
            args_offset=args_member.bit_offset // 8,
            arg_size=arg_spec.size,
            max_args=array.nelems,
            arg_fields=_fields(btf, arg_spec, _ARG_FIELDS),
            usdt_cookie=members["usdt_cookie"],
            arg_cnt=members["arg_cnt"],
        )

    def encode(self, args: Sequence[Arg], cookie: int) -> bytes:
        """The map value for a site with these arguments and USDT cookie."""
        if len(args) > self.max_args:
            raise AttachError(
                f"USDT probe has {len(args)} arguments; usdt.bpf.h takes at most "
                f"{self.max_args}",
                errno=errno.E2BIG,
            )
        value = self.usdt_cookie.put(0, cookie)
        value = self.arg_cnt.put(value, len(args))
        for index, arg in enumerate(args):
            bit = 8 * (self.args_offset + index * self.arg_size)
            value |= self._encode_arg(index, arg) << bit
        return value.to_bytes(self.size, "little")

    def _encode_arg(self, index: int, arg: Arg) -> int:
        fields = self.arg_fields
        if arg.kind == ArgKind.SIB and not self.has_sib:
            raise AttachError(
                f"USDT argument #{index} is a base + index * scale operand, which the "
                "object's usdt.bpf.h cannot read (it needs libbpf 1.7 or later)",
                errno=errno.EOPNOTSUPP,
            )
        word = fields["val_off"].put(0, arg.val_off)
        word = fields["arg_type"].put(word, arg.kind)
        word = fields["reg_off"].put(word, arg.reg_off)
        word = fields["arg_signed"].put(word, arg.signed)
        word = fields["arg_bitshift"].put(word, arg.bitshift)
        if arg.kind == ArgKind.SIB:
            word = fields["idx_reg_off"].put(word, arg.idx_reg_off)
            word = fields["scale_bitshift"].put(word, arg.scale_bitshift)
        return word
