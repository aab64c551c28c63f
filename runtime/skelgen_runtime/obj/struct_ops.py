"""struct_ops maps as an object file declares them, before any kernel is asked.

A variable of a ``.struct_ops`` (or ``.struct_ops.link``) section is a table of
callbacks the kernel calls, such as a ``struct tcp_congestion_ops``: each becomes a
``BPF_MAP_TYPE_STRUCT_OPS`` map named after it.  Its function-pointer members are ELF
relocations against programs of ``SEC("struct_ops/...")`` sections; its other members
(``.name``, ``.flags``...) are data the kernel copies.  A ``?`` before the section name
means "not created unless asked" (libbpf's autocreate off).  The kernel's side (its
``bpf_struct_ops_<name>`` value type, member indexes) is :mod:`..load.struct_ops`'s.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..btf import types as bt
from ..btf.btf import AbstractBtf
from ..btf.lazy import essential_name
from ..errors import ObjectError
from ..uapi.bpf import MapFlag, MapType
from .spec import MapSpec, StructOpsSpec, VariableSpec

STRUCT_OPS_SECTION = ".struct_ops"
STRUCT_OPS_LINK_SECTION = ".struct_ops.link"


def is_struct_ops_section(name: str) -> bool:
    return name.removeprefix("?") in (STRUCT_OPS_SECTION, STRUCT_OPS_LINK_SECTION)


def struct_ops_maps(
    btf: AbstractBtf,
    section: str,
    data: bytes,
    variables: list[VariableSpec],
    targets: Mapping[int, str],
) -> list[MapSpec]:
    """The maps of one struct_ops section: ``targets`` gives the program each
    relocation at a byte offset of the section points to."""
    link = section.removeprefix("?") == STRUCT_OPS_LINK_SECTION
    out = []
    placed: set[int] = set()
    for var in variables:
        type_id = btf.resolve(var.type_id)
        struct = btf[type_id]
        if not isinstance(struct, bt.Struct) or not struct.name:
            raise ObjectError(
                f"struct_ops {var.name!r} in {section}: its type is not a named struct"
            )
        spec = StructOpsSpec(
            type_name=essential_name(struct.name),
            type_id=type_id,
            data=bytearray(data[var.offset : var.offset + var.size]),
            link=link,
        )
        for offset, program in targets.items():
            if var.offset <= offset < var.offset + var.size:
                member = _pointer_member_at(btf, struct, (offset - var.offset) * 8)
                if member is None:
                    raise ObjectError(
                        f"struct_ops {var.name!r}: program {program!r} is placed at "
                        f"byte {offset - var.offset}, which is no pointer member of "
                        f"struct {struct.name}"
                    )
                spec.programs[member.name] = program
                placed.add(offset)
        out.append(
            MapSpec(
                name=var.name,
                type=MapType.STRUCT_OPS,
                key_size=4,
                value_size=var.size,
                max_entries=1,
                flags=MapFlag.LINK if link else 0,
                btf_value_type_id=type_id,
                struct_ops=spec,
                autocreate=not section.startswith("?"),
            )
        )
    stray = sorted(set(targets) - placed)
    if stray:
        raise ObjectError(
            f"{section}: a relocation at byte {stray[0]} lies in no struct_ops variable"
        )
    return out


def _pointer_member_at(
    btf: AbstractBtf, struct: bt.Struct, bit_offset: int
) -> bt.Member | None:
    for member in struct.members:
        if (
            member.bit_offset == bit_offset
            and not member.bitfield_size
            and isinstance(btf[btf.resolve(member.type_id)], bt.Ptr)
        ):
            return member
    return None
