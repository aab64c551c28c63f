"""Which BTF kinds the running kernel accepts, probed when first asked and remembered.

Each probe is the one libbpf makes (a tiny BTF blob the kernel accepts only if it
knows the kind), so the answers are libbpf's answers.
"""

from __future__ import annotations

import ctypes
import functools
import os

from ..btf import codec, types as t
from ..btf.sanitize import BtfFeature
from ..sys import attr as a, commands as cmd


def _int(name: str = "int") -> t.Int:
    return t.Int(name, 4, t.IntEncoding.SIGNED, 0, 32)


def probe_types(feature: BtfFeature) -> list[t.BtfType]:
    """libbpf's probe BTF for ``feature`` (types after void; ids count from 1); made
    when probed, so that importing this module builds no BTF."""
    anon, var = _int(""), t.Var("x", 1, t.VarLinkage.STATIC)
    proto = t.FuncProto("", 0, [t.Param("a", 1)])
    table: dict[BtfFeature, list[t.BtfType]] = {
        BtfFeature.FUNC: [_int(), proto, t.Func("x", 2, t.FuncLinkage.STATIC)],
        BtfFeature.GLOBAL_FUNC: [_int(), proto, t.Func("x", 2, t.FuncLinkage.GLOBAL)],
        BtfFeature.DATASEC: [anon, var, t.Datasec(".data", 4, [t.VarSecinfo(2, 0, 4)])],
        BtfFeature.QMARK_DATASEC: [
            anon,
            var,
            t.Datasec("?.data", 4, [t.VarSecinfo(2, 0, 4)]),
        ],
        BtfFeature.FLOAT: [t.Float("float", 4)],
        BtfFeature.DECL_TAG: [anon, var, t.DeclTag("tag", 2, -1)],
        BtfFeature.TYPE_TAG: [anon, t.TypeTag("tag", 1), t.Ptr("", 2)],
        BtfFeature.ENUM64: [t.Enum("enum64", 8, [], is64=True)],
    }
    return table[feature]


def probe_blob(feature: BtfFeature) -> bytes:
    return codec.encode(probe_types(feature), codec.StringTable())


@functools.cache
def has_btf_feature(feature: BtfFeature) -> bool:
    try:
        os.close(cmd.btf_load(probe_blob(feature)))
    except OSError:
        return False
    return True


def missing_btf_features() -> frozenset[BtfFeature]:
    return frozenset(f for f in BtfFeature if not has_btf_feature(f))


@functools.cache
def has_btf() -> bool:
    """The kernel loads BTF at all (libbpf's ``probe_kern_btf``: one INT)."""
    try:
        os.close(cmd.btf_load(codec.encode([_int()], codec.StringTable())))
    except OSError:
        return False
    return True


@functools.cache
def has_named_kernel_btf() -> bool:
    """BTF objects report their names, so vmlinux and each module's BTF can be found
    by name (libbpf's ``probe_module_btf``; module BTF came in the same release)."""
    try:
        fd = cmd.btf_load(codec.encode([_int()], codec.StringTable()))
    except OSError:
        return False
    name = ctypes.create_string_buffer(16)
    info = a.BpfBtfInfo(name=ctypes.addressof(name), name_len=len(name))
    try:
        cmd.obj_info(fd, info)
    except OSError:
        return False
    finally:
        os.close(fd)
    return True
