"""A struct_ops map against the running kernel's BTF, as libbpf prepares one.

The kernel describes each table it accepts with two types: the table itself
(``struct tcp_congestion_ops``, in vmlinux or a module) and the map's value,
``struct bpf_struct_ops_tcp_congestion_ops``, which holds a ``common`` header and the
table as its ``data`` member.  The object's members are matched to the kernel's by
name: data members are copied (their sizes must agree), function members get the fd
of their program once it is loaded; each such program is loaded with the kernel
table's BTF id as attach_btf_id and the member's index as expected_attach_type.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from ..btf import types as bt
from ..btf.btf import AbstractBtf
from ..errors import LoadError
from ..lean.records import dataclass, field
from ..obj.spec import StructOpsSpec

VALUE_PREFIX = "bpf_struct_ops_"


@dataclass(frozen=True)
class MemberProgram:
    """How a program that implements a member is loaded."""

    btf_name: str  # "vmlinux" or the module whose BTF holds the table
    type_id: int  # the kernel table: attach_btf_id
    member_index: int  # expected_attach_type


@dataclass
class KernelStructOps:
    """A struct_ops map as the kernel wants it."""

    btf_name: str  # "vmlinux" or a module: where value_type_id lives
    value_type_id: int  # bpf_struct_ops_<name>: btf_vmlinux_value_type_id
    value: bytearray  # the value with data members copied, fds still zero
    fd_offsets: dict[str, int] = field(default_factory=dict)  # program → offset
    programs: dict[str, MemberProgram] = field(default_factory=dict)

    def value_with_fds(self, fds: dict[str, int]) -> bytes:
        """The value with each member program's fd in its pointer."""
        value = bytearray(self.value)
        for program, offset in self.fd_offsets.items():
            value[offset : offset + 8] = fds[program].to_bytes(8, "little")
        return bytes(value)


def resolve_struct_ops(
    map_name: str,
    spec: StructOpsSpec,
    obj_btf: AbstractBtf,
    kernel_btfs: Iterable[tuple[str, Callable[[], AbstractBtf]]],
) -> KernelStructOps:
    """Match ``spec`` to the kernel's table; ``kernel_btfs`` are (name, loader) of
    vmlinux then each module, tried in that order."""
    what = f"struct_ops {map_name}"
    for btf_name, load in kernel_btfs:
        btf = load()
        type_ids = btf.find(spec.type_name, bt.Struct)
        value_ids = btf.find(VALUE_PREFIX + spec.type_name, bt.Struct)
        if type_ids and value_ids:
            return _layout(
                what, spec, obj_btf, btf, btf_name, type_ids[0], value_ids[0]
            )
    raise LoadError(
        f"{what}: the kernel has no struct_ops type struct {spec.type_name} "
        f"({VALUE_PREFIX}{spec.type_name} is in no kernel BTF)"
    )


def _layout(
    what: str,
    spec: StructOpsSpec,
    obj_btf: AbstractBtf,
    btf: AbstractBtf,
    btf_name: str,
    type_id: int,
    value_id: int,
) -> KernelStructOps:
    value_type = btf[value_id]
    kernel_type = btf[type_id]
    assert isinstance(value_type, bt.Struct) and isinstance(kernel_type, bt.Struct)
    data_offset = next(
        (
            m.bit_offset // 8
            for m in value_type.members
            if btf.resolve(m.type_id) == type_id
        ),
        None,
    )
    if data_offset is None:
        raise LoadError(
            f"{what}: struct {value_type.name} of the kernel holds no {spec.type_name}"
        )
    out = KernelStructOps(btf_name, value_id, bytearray(value_type.size))
    object_type = obj_btf[spec.type_id]
    assert isinstance(object_type, bt.Struct)
    kernel_members = {m.name: (i, m) for i, m in enumerate(kernel_type.members)}
    unknown = sorted(set(spec.programs) - {m.name for m in object_type.members})
    if unknown:
        raise LoadError(
            f"{what}: struct {spec.type_name} has no member {unknown[0]!r} "
            "for a program to implement"
        )
    for member in object_type.members:
        name = member.name
        start = member.bit_offset // 8
        size = obj_btf.size_of(member.type_id)
        program = spec.programs.get(name)
        found = kernel_members.get(name)
        if found is None:
            if program is not None or any(spec.data[start : start + size]):
                raise LoadError(
                    f"{what}: member {name!r} is set but the kernel's struct "
                    f"{spec.type_name} has no such member"
                )
            continue
        index, kernel_member = found
        if member.bitfield_size or kernel_member.bitfield_size:
            raise LoadError(f"{what}: member {name!r} is a bitfield")
        ours, theirs = (
            obj_btf[obj_btf.resolve(member.type_id)],
            btf[btf.resolve(kernel_member.type_id)],
        )
        if type(ours) is not type(theirs):
            raise LoadError(
                f"{what}: member {name!r} is a {ours.kind.name.lower()} here but a "
                f"{theirs.kind.name.lower()} in the kernel"
            )
        kernel_start = data_offset + kernel_member.bit_offset // 8
        if isinstance(ours, bt.Ptr):
            if program is None:
                continue  # a callback left out: the kernel's default, or none
            known = out.programs.get(program)
            if known is not None and known.member_index != index:
                raise LoadError(
                    f"{what}: program {program} implements two different members"
                )
            out.programs[program] = MemberProgram(btf_name, type_id, index)
            out.fd_offsets[program] = kernel_start
            continue
        kernel_size = btf.size_of(kernel_member.type_id)
        if size != kernel_size:
            raise LoadError(
                f"{what}: member {name!r} is {size} bytes here but {kernel_size} "
                "in the kernel"
            )
        out.value[kernel_start : kernel_start + size] = spec.data[start : start + size]
    return out
