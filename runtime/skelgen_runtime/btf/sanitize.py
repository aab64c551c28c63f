"""Rewrite BTF for a kernel that lacks some BTF kinds (libbpf's ``sanitize_btf``).

Each missing kind becomes one an older kernel knows, keeping every type id and
every size, so that map and program references stay valid.  Pure: the kernel's
abilities come in as a set of :class:`BtfFeature`.
"""

from __future__ import annotations

import copy

from ..lean.enums import Enum
from . import types as t
from .btf import Btf


class BtfFeature(Enum):
    """BTF abilities that appeared over kernel versions."""

    FUNC = "BTF_KIND_FUNC and FUNC_PROTO"  # 5.0
    GLOBAL_FUNC = "global BTF_KIND_FUNC linkage"  # 5.6
    DATASEC = "BTF_KIND_VAR and DATASEC"  # 5.2
    QMARK_DATASEC = "DATASEC names starting with '?'"  # 5.19
    FLOAT = "BTF_KIND_FLOAT"  # 5.13
    DECL_TAG = "BTF_KIND_DECL_TAG"  # 5.16
    TYPE_TAG = "BTF_KIND_TYPE_TAG"  # 5.17
    ENUM64 = "BTF_KIND_ENUM64 and signed enums"  # 6.0


ENUM64_PLACEHOLDER = "enum64_placeholder"


def sanitize(btf: Btf, missing: frozenset[BtfFeature]) -> Btf:
    """A copy of ``btf`` using only kinds the kernel has (``btf`` itself if it
    lacks nothing)."""
    if not missing:
        return btf
    types = copy.deepcopy(btf.types)
    out = Btf(types, btf.strings)
    placeholder = 0
    for type_id, item in enumerate(types):
        new = _replacement(item, missing, types)
        if isinstance(item, t.Enum) and item.is64 and BtfFeature.ENUM64 in missing:
            if not placeholder:
                placeholder = out.add(
                    t.Int(ENUM64_PLACEHOLDER, 1, t.IntEncoding(0), 0, 8)
                )
            new = t.Union(
                item.name,
                item.size,
                [t.Member(v.name, placeholder, 0) for v in item.values],
            )
        if new is not None:
            types[type_id] = new
    return out


def _replacement(
    item: t.BtfType, missing: frozenset[BtfFeature], types: list[t.BtfType]
) -> t.BtfType | None:
    if (isinstance(item, t.Var) and BtfFeature.DATASEC in missing) or (
        isinstance(item, t.DeclTag) and BtfFeature.DECL_TAG in missing
    ):
        # one byte: an INT as large as the variable may not fit its DATASEC
        return t.Int(item.name, 1, t.IntEncoding(0), 0, 8)
    if isinstance(item, t.Datasec) and BtfFeature.DATASEC in missing:
        # members keep the variables' names; their types, the VARs, became INTs
        return t.Struct(
            item.name.replace(".", "_").replace("?", "_"),
            item.size,
            [
                t.Member(types[v.type_id].name, v.type_id, 8 * v.offset)
                for v in item.vars
            ],
        )
    if (
        isinstance(item, t.Datasec)
        and BtfFeature.QMARK_DATASEC in missing
        and item.name.startswith("?")
    ):
        return t.Datasec("_" + item.name[1:], item.size, item.vars)
    if isinstance(item, t.FuncProto) and BtfFeature.FUNC in missing:
        return t.Enum("", 4, [t.EnumValue(p.name, p.type_id) for p in item.params])
    if isinstance(item, t.Func) and BtfFeature.FUNC in missing:
        return t.Typedef(item.name, item.type_id)
    if isinstance(item, t.Func) and BtfFeature.GLOBAL_FUNC in missing:
        return t.Func(item.name, item.type_id, t.FuncLinkage.STATIC)
    if isinstance(item, t.Float) and BtfFeature.FLOAT in missing:
        return t.Struct("", item.size, [])
    if isinstance(item, t.TypeTag) and BtfFeature.TYPE_TAG in missing:
        return t.Const("", item.type_id)
    if isinstance(item, t.Enum) and not item.is64 and BtfFeature.ENUM64 in missing:
        return t.Enum(item.name, item.size, item.values, signed=False)
    return None
