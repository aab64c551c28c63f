"""Lazily decoded BTF (btf/lazy.py) and BTF sanitisation (btf/sanitize.py), on bytes."""

from __future__ import annotations

import struct

import pytest
from skelgen_runtime.btf import Btf, codec, types as t
from skelgen_runtime.btf.lazy import BtfIndex, LazyBtf, check_index, record_offsets
from skelgen_runtime.btf.sanitize import ENUM64_PLACEHOLDER, BtfFeature, sanitize
from skelgen_runtime.errors import ObjectError

S = t.IntEncoding.SIGNED

# One type of every kind, with names that sort in interesting ways.
ALL_KINDS: list[t.BtfType] = [
    t.Int("int", 4, S, 0, 32),  # 1
    t.Ptr("", 1),  # 2
    t.Array("", 1, 1, 3),  # 3
    t.Struct("task", 8, [t.Member("a", 1, 0), t.Member("b", 1, 32, 3)], True),  # 4
    t.Union("task___v2", 4, [t.Member("a", 1, 0)]),  # 5
    t.Enum("e", 4, [t.EnumValue("X", 1), t.EnumValue("Y", -2)], signed=True),  # 6
    t.Enum("e64", 8, [t.EnumValue("Z", 1 << 40)], is64=True),  # 7
    t.Fwd("task___fwd", is_union=True),  # 8
    t.Typedef("tasks", 4),  # 9
    t.Volatile("", 1),  # 10
    t.Const("", 10),  # 11
    t.Restrict("", 2),  # 12
    t.TypeTag("user", 2),  # 13
    t.FuncProto("", 1, [t.Param("x", 1)]),  # 14
    t.Func("f", 14, t.FuncLinkage.GLOBAL),  # 15
    t.Var("v", 1, t.VarLinkage.GLOBAL_ALLOCATED),  # 16
    t.Datasec(".data", 4, [t.VarSecinfo(16, 0, 4)]),  # 17
    t.Float("double", 8),  # 18
    t.DeclTag("tag", 16, -1),  # 19
    t.Struct("task", 0, []),  # 20: a second "task"
]


def blob(types: list[t.BtfType]) -> bytes:
    return codec.encode(types, codec.StringTable())


def test_lazy_decoding_equals_eager_decoding() -> None:
    raw = blob(ALL_KINDS)
    lazy, eager = LazyBtf(raw), Btf.from_bytes(raw)
    assert len(lazy) == len(eager) == len(ALL_KINDS) + 1
    for type_id in reversed(range(len(eager))):  # any order
        assert lazy[type_id] == eager[type_id]
    assert lazy.size_of(4) == 8 and lazy.resolve(11) == 1
    with pytest.raises(ObjectError):
        lazy[len(eager)]


def test_lookups_by_name() -> None:
    lazy = LazyBtf(blob(ALL_KINDS))
    assert lazy.find("task") == [4, 20]
    assert lazy.find("task", t.Struct) == [4, 20]
    assert lazy.find("tasks") == [9]
    assert lazy.find("nope") == []
    assert lazy.find_flavors("task") == [4, 5, 8, 20]  # not "tasks"
    assert lazy.find_flavors("e") == [6]


def test_index_round_trip() -> None:
    raw = blob(ALL_KINDS)
    index = LazyBtf(raw).index
    stored = BtfIndex.from_bytes(index.to_bytes())
    assert stored == index
    assert LazyBtf(raw, index=stored).find("double") == [18]
    assert BtfIndex.from_bytes(b"garbage") is None
    assert BtfIndex.from_bytes(index.to_bytes()[:-4]) is None


def test_record_offsets_reject_bad_sections() -> None:
    raw = blob(ALL_KINDS)
    start, length, _ = codec.sections(raw)
    assert len(record_offsets(raw, start, length)) == len(ALL_KINDS)
    with pytest.raises(ObjectError, match="truncated"):
        record_offsets(raw, start, length - 4)
    bad = bytearray(raw)
    struct.pack_into("<I", bad, start + 4, 25 << 24)  # kind 25 does not exist
    with pytest.raises(ObjectError, match="unknown kind"):
        record_offsets(bytes(bad), start, length)


def test_split_btf_continues_ids_and_strings() -> None:
    base = LazyBtf(blob(ALL_KINDS))
    # one STRUCT named with a base string ("task"), whose member is named with
    # the module's own string "m" and typed with a base type (int)
    own_strings = b"\0m\0"
    task_off = base.strings.index(b"\0task\0") + 1
    types = struct.pack("<III", task_off, (t.Kind.STRUCT << 24) | 1, 4)
    types += struct.pack("<III", base.string_end + 1, 1, 0)
    header = struct.pack(
        "<HBBIIIII",
        codec.BTF_MAGIC,
        1,
        0,
        24,
        0,
        len(types),
        len(types),
        len(own_strings),
    )
    module = LazyBtf(header + types + own_strings, base=base)
    own_id = len(ALL_KINDS) + 1
    assert len(module) == own_id + 1
    assert module[own_id] == t.Struct("task", 4, [t.Member("m", 1, 0)])
    assert module[4] == base[4]  # base ids reach the base
    assert module.find("task") == [own_id]  # own types only
    assert module.find_flavors("task") == [own_id]


# -- sanitisation -------------------------------------------------------------------


def kinds(btf: Btf) -> list[t.Kind]:
    return [item.kind for item in btf.types]


def test_qmark_datasec_names() -> None:
    """libbpf: a kernel that refuses '?' in DATASEC names gets '_' instead; one
    without DATASEC gets a struct named without '.' or '?'."""
    types: list[t.BtfType] = [
        t.Int("", 4, t.IntEncoding.SIGNED, 0, 32),
        t.Var("x", 1, t.VarLinkage.STATIC),
        t.Datasec("?.data.x", 4, [t.VarSecinfo(2, 0, 4)]),
    ]
    btf = Btf.from_bytes(codec.encode(types, codec.StringTable()))
    renamed = Btf.from_bytes(
        sanitize(btf, frozenset({BtfFeature.QMARK_DATASEC})).encode()
    )
    assert renamed[3] == t.Datasec("_.data.x", 4, [t.VarSecinfo(2, 0, 4)])
    as_struct = sanitize(btf, frozenset({BtfFeature.DATASEC}))[3]
    assert isinstance(as_struct, t.Struct) and as_struct.name == "__data_x"


def test_nothing_missing_changes_nothing() -> None:
    btf = Btf.from_bytes(blob(ALL_KINDS))
    assert sanitize(btf, frozenset()) is btf


@pytest.mark.parametrize("feature", list(BtfFeature))
def test_each_missing_feature(feature: BtfFeature) -> None:
    original = Btf.from_bytes(blob(ALL_KINDS))
    before = kinds(original)
    out = Btf.from_bytes(sanitize(original, frozenset({feature})).encode())
    assert kinds(original) == before  # the original is untouched
    after = kinds(out)
    changed = {i for i, (a, b) in enumerate(zip(before, after, strict=False)) if a != b}
    expected = {
        BtfFeature.FUNC: {14, 15},
        BtfFeature.GLOBAL_FUNC: set(),
        BtfFeature.DATASEC: {16, 17},
        BtfFeature.QMARK_DATASEC: set(),  # names only: test_qmark_datasec_names
        BtfFeature.FLOAT: {18},
        BtfFeature.DECL_TAG: {19},
        BtfFeature.TYPE_TAG: {13},
        BtfFeature.ENUM64: {7},
    }[feature]
    assert changed == expected
    for type_id in range(1, len(before)):  # sizes stay, so layouts do
        if isinstance(original[type_id], (t.Int, t.Struct, t.Union, t.Enum, t.Float)):
            assert out.size_of(type_id) == original.size_of(type_id)
    if feature == BtfFeature.GLOBAL_FUNC:
        func = out[15]
        assert isinstance(func, t.Func) and func.linkage == t.FuncLinkage.STATIC
    if feature == BtfFeature.DATASEC:
        section = out[17]
        assert section == t.Struct("_data", 4, [t.Member("v", 16, 0)])
        assert out[16] == t.Int("v", 1, t.IntEncoding(0), 0, 8)
    if feature == BtfFeature.ENUM64:
        assert isinstance(out[6], t.Enum) and not out[6].signed
        union = out[7]
        assert isinstance(union, t.Union) and union.size == 8
        placeholder = out[len(before)]
        assert placeholder.name == ENUM64_PLACEHOLDER
        assert [m.type_id for m in union.members] == [len(before)]
    if feature == BtfFeature.FUNC:
        assert out[15] == t.Typedef("f", 14)
        assert out[14] == t.Enum("", 4, [t.EnumValue("x", 1)])


def test_check_index_spots_an_index_of_other_bytes() -> None:
    raw = blob(ALL_KINDS)
    index = LazyBtf(raw).index
    assert check_index(raw, index)
    other = LazyBtf(blob(ALL_KINDS[:-1])).index
    assert not check_index(raw, other)
