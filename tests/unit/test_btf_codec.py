"""BTF bytes ↔ model, on the kernel's own BTF and on hand-built blobs."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import require
from skelgen_runtime.btf import Btf, types as bt
from skelgen_runtime.btf.codec import StringTable, decode, encode
from skelgen_runtime.errors import ObjectError

VMLINUX = Path("/sys/kernel/btf/vmlinux")


def test_vmlinux_round_trips_byte_for_byte() -> None:
    require(VMLINUX.is_file(), "no kernel BTF")
    raw = VMLINUX.read_bytes()
    btf = Btf.from_bytes(raw)
    assert len(btf) > 10_000
    assert btf.encode() == raw
    task = btf[btf.find("task_struct", bt.Struct)[0]]
    assert isinstance(task, bt.Struct) and task.size > 1000


def _blob(types: list[bt.BtfType]) -> bytes:
    return encode(types, StringTable())


def test_every_kind_survives_encode_and_decode() -> None:
    types: list[bt.BtfType] = [
        bt.Int("int", 4, bt.IntEncoding.SIGNED, 0, 32),  # 1
        bt.Ptr("", 1),  # 2
        bt.Array("", 1, 1, 3),  # 3
        bt.Struct("s", 16, [bt.Member("a", 1, 0), bt.Member("b", 1, 35, 3)], True),  # 4
        bt.Union("u", 4, [bt.Member("x", 1, 0)]),  # 5
        bt.Enum(
            "e", 4, [bt.EnumValue("NEG", -5), bt.EnumValue("POS", 7)], signed=True
        ),  # 6
        bt.Enum("e64", 8, [bt.EnumValue("BIG", 1 << 40)], is64=True),  # 7
        bt.Fwd("f", is_union=True),  # 8
        bt.Typedef("t", 1),  # 9
        bt.Volatile("", 1),  # 10
        bt.Const("", 10),  # 11
        bt.Restrict("", 2),  # 12
        bt.FuncProto("", 1, [bt.Param("p", 1)]),  # 13
        bt.Func("fn", 13, bt.FuncLinkage.GLOBAL),  # 14
        bt.Var("v", 1, bt.VarLinkage.GLOBAL_ALLOCATED),  # 15
        bt.Datasec(".bss", 4, [bt.VarSecinfo(15, 0, 4)]),  # 16
        bt.Float("double", 8),  # 17
        bt.DeclTag("tag", 4, 1),  # 18
        bt.TypeTag("user", 2),  # 19
    ]
    decoded, _ = decode(_blob(types))
    assert decoded[1:] == types


def test_btf_resolves_sizes_through_modifiers_and_typedefs() -> None:
    types: list[bt.BtfType] = [
        bt.Int("char", 1, bt.IntEncoding.SIGNED, 0, 8),
        bt.Array("", 1, 1, 6),
        bt.Typedef("name_t", 2),
        bt.Const("", 3),
        bt.Struct("packed", 7, [bt.Member("c", 1, 0), bt.Member("n", 4, 8)]),
    ]
    btf = Btf(*decode(_blob(types)))
    assert btf.size_of(4) == 6
    assert btf.resolve(4) == 2
    assert btf.size_of(5) == 7
    assert btf.align_of(5) == 1


@pytest.mark.parametrize("cut", [0, 10, 30])
def test_truncated_btf_is_an_object_error(cut: int) -> None:
    blob = _blob([bt.Int("int", 4, bt.IntEncoding.SIGNED, 0, 32)])
    with pytest.raises(ObjectError):
        decode(blob[:cut])


def test_bad_magic_is_an_object_error() -> None:
    blob = bytearray(_blob([bt.Int("int", 4, bt.IntEncoding.SIGNED, 0, 32)]))
    blob[0] ^= 0xFF
    with pytest.raises(ObjectError, match="magic"):
        decode(bytes(blob))


def test_string_table_keeps_original_offsets() -> None:
    table = StringTable(b"\0abc\0def\0")
    assert table.offset("def") == 5
    assert table.offset("new") == 9
    assert table.to_bytes() == b"\0abc\0def\0new\0"
