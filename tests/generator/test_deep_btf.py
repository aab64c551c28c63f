"""Types nested as deep as BTF validation lets through still give classes and C
declarations: the generator's recursive walks fit in Python's recursion limit."""

from __future__ import annotations

import ctypes
from typing import Any

import pytest
from skelgen_runtime.btf import Btf, types as bt
from skelgen_runtime.btf.codec import StringTable, encode
from skelgen_runtime.btf.validate import MAX_NESTING
from skelgen_runtime.cdata import types as ctypes_base

from skelgen.c_decl import declaration
from skelgen.ctypes_emit import TypeEmitter
from skelgen.naming import MODULE_RESERVED, Scope

INT = bt.Int("int", 4, bt.IntEncoding.SIGNED, 0, 32)


def _chain(kind: str) -> list[bt.BtfType]:
    """INT, then levels each standing on the one before, MAX_NESTING - 2 of them."""
    types: list[bt.BtfType] = [INT]
    for level in range(MAX_NESTING - 2):
        inner = level + 1
        if kind == "struct":
            item: bt.BtfType = bt.Struct(f"s{level}", 4, [bt.Member("m", inner, 0)])
        elif kind == "typedef-array":
            item = (
                bt.Typedef(f"t{level}", inner)
                if level % 2
                else bt.Array("", inner, 1, 1)
            )
        elif kind == "pointer":
            item = bt.Ptr("", inner)
        else:  # function pointers taking the previous level
            item = (
                bt.Ptr("", inner)
                if level % 2
                else bt.FuncProto("", 1, [bt.Param("p", inner)])
            )
        types.append(item)
    return types


@pytest.mark.parametrize("kind", ["struct", "typedef-array", "pointer", "function"])
def test_the_deepest_valid_nesting_is_emitted(kind: str) -> None:
    types = _chain(kind)
    btf = Btf.from_bytes(encode(types, StringTable()))
    top = len(types)
    assert declaration(btf, top, "x")
    emitter = TypeEmitter(btf, Scope(MODULE_RESERVED))
    emitter.claim_names()
    expression = emitter.ctype(top, "top")
    namespace: dict[str, Any] = {"ctypes": ctypes, **vars(ctypes_base)}
    exec("\n".join(emitter.blocks) + f"\nTOP = {expression}\n", namespace)
    assert ctypes.sizeof(namespace["TOP"]) in (4, 8)
