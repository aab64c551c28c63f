"""CO-RE relocation arithmetic (btf/core.py) on hand-built BTF: no kernel.

The "kernel" is a LazyBtf decoded from bytes; the "object" a Btf model.  Values
are what libbpf's relo_core.c computes for the same types.
"""

from __future__ import annotations

import struct

import pytest
from skelgen_runtime.btf import Btf, codec, types as t
from skelgen_runtime.btf.core import (
    POISON_IMM,
    CoreKind,
    Relocator,
    Result,
    find_candidates,
    match_spec,
    parse_spec,
    patch_insn,
    types_are_compatible,
    types_match,
)
from skelgen_runtime.btf.ext import CoreRelo
from skelgen_runtime.btf.lazy import LazyBtf, essential_name
from skelgen_runtime.errors import LoadError

S = t.IntEncoding.SIGNED
U = t.IntEncoding(0)

# The kernel's types (ids from 1).
KERNEL = [
    t.Int("int", 4, S, 0, 32),  # 1
    t.Int("unsigned int", 4, U, 0, 32),  # 2
    t.Int("long", 8, S, 0, 64),  # 3
    t.Struct(  # 4: an anonymous struct embedded in task_struct
        "", 8, [t.Member("anon_a", 1, 0), t.Member("anon_b", 1, 32)]
    ),
    t.Array("", 1, 1, 4),  # 5: int[4]
    t.Struct(  # 6
        "task_struct",
        48,
        [
            t.Member("pid", 1, 0),
            t.Member("tgid", 1, 32),
            t.Member("flags", 2, 64, bitfield_size=3),
            t.Member("signed_bits", 1, 67, bitfield_size=5),
            t.Member("", 4, 96),
            t.Member("arr", 5, 160),
            t.Member("parent", 7, 320),
            t.Member("counter", 2, 32 * 12),
        ],
        kind_flag=True,
    ),
    t.Ptr("", 6),  # 7
    t.Enum("state", 4, [t.EnumValue("RUNNING", 0), t.EnumValue("NEG", 0xFFFFFF80)]),
    t.Enum("big", 8, [t.EnumValue("HUGE", -128)], signed=True, is64=True),  # 9
    t.Typedef("pid_t", 1),  # 10
    t.Struct("twin___a", 4, [t.Member("x", 1, 0)]),  # 11
    t.Struct("twin___b", 8, [t.Member("y", 1, 0), t.Member("x", 1, 32)]),  # 12
    t.Struct("same___a", 4, [t.Member("x", 1, 0)]),  # 13
    t.Struct("same___b", 4, [t.Member("x", 2, 0)]),  # 14
    t.FuncProto("", 1, [t.Param("a", 1), t.Param("b", 7)]),  # 15
    t.Func("kfunc", 15, t.FuncLinkage.GLOBAL),  # 16
]


def kernel() -> LazyBtf:
    return LazyBtf(codec.encode(KERNEL, codec.StringTable()))


# The object's types.
LOCAL = [
    t.Void(),
    t.Int("int", 4, S, 0, 32),  # 1
    t.Int("long", 8, S, 0, 64),  # 2
    t.Int("unsigned long", 8, U, 0, 64),  # 3
    t.Struct(  # 4
        "task_struct___mine",
        40,
        [
            t.Member("pid", 1, 0),
            t.Member("tgid", 2, 64),  # long locally, int in the kernel
            t.Member("anon_b", 1, 128),
            t.Member("counter", 3, 192),  # u64 locally, u32 in the kernel
            t.Member("gone", 1, 256),
        ],
    ),
    t.Struct("task_struct", 48, []),  # 5
    t.Struct("nothing___here", 4, [t.Member("x", 1, 0)]),  # 6
    t.Enum("state___x", 4, [t.EnumValue("NEG___x", 5), t.EnumValue("LOST", 6)]),  # 7
    t.Enum("big", 8, [t.EnumValue("HUGE", 0)], is64=True),  # 8
    t.Struct("twin", 8, [t.Member("x", 1, 0)]),  # 9
    t.Struct("same", 4, [t.Member("x", 1, 0)]),  # 10
    t.Typedef("pid_t", 1),  # 11
    t.Struct(  # 12: vmlinux.h's view of task_struct, as far as it goes
        "task_struct",
        48,
        [
            t.Member("pid", 1, 0),
            t.Member("flags", 14, 64, bitfield_size=3),
            t.Member("signed_bits", 1, 67, bitfield_size=5),
            t.Member("arr", 13, 160),
        ],
        kind_flag=True,
    ),
    t.Array("", 1, 1, 4),  # 13
    t.Int("unsigned int", 4, U, 0, 32),  # 14
]


def local() -> Btf:
    return Btf(list(LOCAL), b"\0")


def resolve(type_id: int, access: str, kind: CoreKind) -> Result:
    return Relocator(local(), kernel()).resolve(CoreRelo(0, type_id, access, kind))


def insn(code: int, dst: int = 0, src: int = 0, off: int = 0, imm: int = 0) -> bytes:
    return struct.pack("<BBhi", code, dst | src << 4, off, imm)


# -- names and specs ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "essential"),
    [
        ("task_struct", "task_struct"),
        ("task_struct___v1", "task_struct"),
        ("a___b___c", "a___b"),
        ("foo____bar", "foo____bar"),  # the separator's Y may not be "_"
        ("x___", "x___"),
        ("___x", "___x"),
    ],
)
def test_essential_name(name: str, essential: str) -> None:
    assert essential_name(name) == essential


def test_parse_spec_through_array() -> None:
    spec = parse_spec(local(), CoreRelo(0, 12, "0:3:2", CoreKind.FIELD_BYTE_OFFSET))
    assert spec.raw == [0, 3, 2]
    assert [(a.name, a.idx) for a in spec.accessors] == [
        (None, 0),
        ("arr", 3),
        (None, 2),
    ]
    assert spec.bit_offset == 160 + 2 * 32


@pytest.mark.parametrize(
    ("type_id", "access", "kind"),
    [
        (4, "", CoreKind.FIELD_BYTE_OFFSET),
        (4, ":0", CoreKind.FIELD_BYTE_OFFSET),
        (4, "0:x", CoreKind.FIELD_BYTE_OFFSET),
        (4, "0:9", CoreKind.FIELD_BYTE_OFFSET),  # no member 9
        (12, "0:3:4", CoreKind.FIELD_BYTE_OFFSET),  # arr has 4 elements
        (4, "1", CoreKind.TYPE_SIZE),  # type relocations take "0" only
        (7, "0:1", CoreKind.ENUMVAL_VALUE),
        (7, "2", CoreKind.ENUMVAL_VALUE),
        (4, "0:0:0", CoreKind.FIELD_BYTE_OFFSET),  # through an int
    ],
)
def test_invalid_access_strings(type_id: int, access: str, kind: CoreKind) -> None:
    with pytest.raises(LoadError):
        parse_spec(local(), CoreRelo(0, type_id, access, kind))


def test_target_spec_goes_through_anonymous_members() -> None:
    spec = parse_spec(local(), CoreRelo(0, 4, "0:2", CoreKind.FIELD_BYTE_OFFSET))
    target = match_spec(spec, kernel(), 6)
    assert target is not None
    assert target.raw == [0, 4, 1]  # task_struct's member 4 is the anonymous struct
    assert target.bit_offset == 96 + 32


# -- field relocations ----------------------------------------------------------------


def test_field_offset_size_and_existence() -> None:
    assert resolve(4, "0:0", CoreKind.FIELD_BYTE_OFFSET) == Result(
        0, 0, orig_size=4, new_size=4
    )
    tgid = resolve(4, "0:1", CoreKind.FIELD_BYTE_OFFSET)
    assert (tgid.orig_val, tgid.new_val) == (8, 4)
    assert (tgid.orig_size, tgid.new_size) == (8, 4)
    assert tgid.fail_memsz_adjust  # long → int: narrowing a signed load is wrong
    counter = resolve(4, "0:3", CoreKind.FIELD_BYTE_OFFSET)
    assert (counter.new_val, counter.new_size) == (48, 4)
    assert not counter.fail_memsz_adjust  # unsigned: narrowing keeps the value
    assert resolve(4, "0:1", CoreKind.FIELD_BYTE_SIZE).new_val == 4
    assert resolve(4, "0:2", CoreKind.FIELD_EXISTS).new_val == 1
    assert resolve(4, "0:4", CoreKind.FIELD_EXISTS) == Result(1, 0)
    assert resolve(4, "0:4", CoreKind.FIELD_BYTE_OFFSET).poison
    assert resolve(4, "0:0", CoreKind.FIELD_SIGNED).new_val == 1


def test_array_element() -> None:
    result = resolve(12, "0:3:2", CoreKind.FIELD_BYTE_OFFSET)
    assert (result.orig_val, result.new_val, result.new_size) == (28, 28, 4)
    assert resolve(12, "0:3", CoreKind.FIELD_BYTE_SIZE).new_val == 16


def test_bitfields() -> None:
    # flags: 3 bits at bit 64 of an unsigned int
    assert resolve(12, "0:1", CoreKind.FIELD_BYTE_OFFSET).new_val == 8
    assert resolve(12, "0:1", CoreKind.FIELD_BYTE_SIZE).new_val == 4
    assert resolve(12, "0:1", CoreKind.FIELD_LSHIFT_U64).new_val == 64 - 3
    assert resolve(12, "0:1", CoreKind.FIELD_RSHIFT_U64).new_val == 64 - 3
    assert resolve(12, "0:1", CoreKind.FIELD_SIGNED).new_val == 0
    # signed_bits: 5 bits at bit 67 of an int
    assert resolve(12, "0:2", CoreKind.FIELD_LSHIFT_U64).new_val == 64 - (3 + 5)
    assert resolve(12, "0:2", CoreKind.FIELD_RSHIFT_U64).new_val == 64 - 5
    assert resolve(12, "0:2", CoreKind.FIELD_SIGNED).new_val == 1
    # only signedness and right shift are checked against the instruction
    assert not resolve(12, "0:1", CoreKind.FIELD_LSHIFT_U64).validate
    assert resolve(12, "0:1", CoreKind.FIELD_RSHIFT_U64).validate


# -- type and enum relocations -------------------------------------------------------------


def test_type_relocations() -> None:
    assert resolve(5, "0", CoreKind.TYPE_EXISTS).new_val == 1
    assert resolve(6, "0", CoreKind.TYPE_EXISTS) == Result(1, 0)
    assert resolve(5, "0", CoreKind.TYPE_SIZE).new_val == 48
    assert resolve(6, "0", CoreKind.TYPE_SIZE).new_val == 0
    assert resolve(5, "0", CoreKind.TYPE_ID_TARGET) == Result(5, 6, validate=False)
    assert resolve(5, "0", CoreKind.TYPE_ID_LOCAL) == Result(5, 5, validate=False)
    assert resolve(11, "0", CoreKind.TYPE_ID_TARGET).new_val == 10
    # local task_struct (id 12) names only members the kernel has, with same types
    assert resolve(12, "0", CoreKind.TYPE_MATCHES).new_val == 1
    assert resolve(4, "0", CoreKind.TYPE_MATCHES).new_val == 0  # has "gone"


def test_enum_relocations() -> None:
    assert resolve(7, "0", CoreKind.ENUMVAL_EXISTS).new_val == 1  # NEG___x → NEG
    assert resolve(7, "1", CoreKind.ENUMVAL_EXISTS).new_val == 0
    # 32-bit enumerators are read as __s32, 64-bit ones whole
    assert resolve(7, "0", CoreKind.ENUMVAL_VALUE).new_val == 2**64 - 128
    assert resolve(7, "0", CoreKind.ENUMVAL_VALUE).orig_val == 5
    assert resolve(8, "0", CoreKind.ENUMVAL_VALUE).new_val == 2**64 - 128
    assert resolve(7, "1", CoreKind.ENUMVAL_VALUE).poison
    assert resolve(7, "0", CoreKind.TYPE_MATCHES).new_val == 0  # LOST is not there


# -- candidates ------------------------------------------------------------------------


def test_candidates_must_agree() -> None:
    with pytest.raises(LoadError, match="ambiguity"):
        resolve(9, "0:0", CoreKind.FIELD_BYTE_OFFSET)  # twin___a.x @0, twin___b.x @4
    # same___a and same___b agree on x: accepted, both kept
    relocator = Relocator(local(), kernel())
    assert (
        relocator.resolve(CoreRelo(0, 10, "0:0", CoreKind.FIELD_BYTE_OFFSET)).new_val
        == 0
    )


def test_candidates_narrow_to_the_matching_ones() -> None:
    relocator = Relocator(local(), kernel())
    assert relocator.resolve(CoreRelo(0, 10, "0", CoreKind.TYPE_EXISTS)).new_val == 1
    assert [c.type_id for c in relocator._candidates[10]] == [13, 14]
    # same___b's x is unsigned: only same___a "matches"; later relocations of
    # "same" only consider it, as in libbpf
    assert relocator.resolve(CoreRelo(0, 10, "0", CoreKind.TYPE_MATCHES)).new_val == 1
    assert [c.type_id for c in relocator._candidates[10]] == [13]


def test_module_candidates_only_without_vmlinux_ones() -> None:
    vmlinux = kernel()
    module_types = [t.Struct("nothing", 4, [t.Member("x", 1, 0)])]
    strings = codec.StringTable()
    raw = codec.encode(module_types, strings)
    # split BTF: ids and string offsets continue after vmlinux's
    module = LazyBtf(_split(raw, vmlinux), base=vmlinux)
    asked: list[bool] = []

    def modules() -> list[LazyBtf]:
        asked.append(True)
        return [module]

    found = find_candidates(local(), 6, vmlinux, modules)
    assert [(c.btf, c.type_id) for c in found] == [(module, len(KERNEL) + 1)]
    assert find_candidates(local(), 5, vmlinux, modules)[0].type_id == 6
    assert len(asked) == 1  # task_struct is in vmlinux: modules not read


def _split(raw: bytes, base: LazyBtf) -> bytes:
    """Rebase a standalone blob's string offsets after ``base``'s strings."""
    hdr = list(struct.unpack_from("<HBBIIIII", raw))
    types_start, type_len = hdr[3] + hdr[4], hdr[5]
    shift = base.string_end
    out = bytearray(raw)
    pos = types_start
    while pos < types_start + type_len:
        name_off, info, _ = struct.unpack_from("<III", out, pos)
        if name_off:
            struct.pack_into("<I", out, pos, name_off + shift)
        vlen, kind = info & 0xFFFF, (info >> 24) & 0x1F
        pos += 12
        if kind == t.Kind.STRUCT:
            for _ in range(vlen):
                (m_name,) = struct.unpack_from("<I", out, pos)
                struct.pack_into("<I", out, pos, m_name + shift)
                pos += 12
    return bytes(out)


# -- type comparisons ------------------------------------------------------------------------


def test_types_are_compatible() -> None:
    kbtf = kernel()
    lbtf = Btf(
        [
            t.Void(),
            t.Int("x", 2, U, 0, 16),  # 1
            t.Ptr("", 5),  # 2
            t.FuncProto("", 1, [t.Param("a", 1), t.Param("b", 2)]),  # 3
            t.FuncProto("", 1, [t.Param("a", 1)]),  # 4
            t.Struct("whatever", 0, []),  # 5: names past the root are ignored
            t.Ptr("", 1),  # 6
            t.FuncProto("", 1, [t.Param("a", 1), t.Param("b", 6)]),  # 7
        ],
        b"\0",
    )
    assert types_are_compatible(lbtf, 3, kbtf, 15)  # ints of any size/sign
    assert not types_are_compatible(lbtf, 4, kbtf, 15)  # one parameter short
    assert not types_are_compatible(lbtf, 7, kbtf, 15)  # int * vs task_struct *
    assert not types_are_compatible(lbtf, 1, kbtf, 7)  # int vs pointer


def test_types_match_is_strict() -> None:
    kbtf = kernel()
    lbtf = local()
    assert types_match(lbtf, 11, kbtf, 10)  # pid_t → int both
    assert not types_match(lbtf, 2, kbtf, 1)  # long vs int: sizes differ
    assert types_match(lbtf, 1, kbtf, 1)
    assert not types_match(lbtf, 14, kbtf, 1)  # signedness differs


# -- instruction patching --------------------------------------------------------------------


def test_patch_alu_immediate() -> None:
    insns = bytearray(insn(0xB7, dst=1, imm=8))  # r1 = 8
    patch_insn(insns, 0, Result(8, 4))
    assert insns == insn(0xB7, dst=1, imm=4)
    with pytest.raises(LoadError, match="expected 8"):
        patch_insn(bytearray(insn(0xB7, dst=1, imm=9)), 0, Result(8, 4))
    patch_insn(insns, 0, Result(99, 7, validate=False))
    assert insns == insn(0xB7, dst=1, imm=7)
    with pytest.raises(LoadError, match="immediate"):
        patch_insn(bytearray(insn(0x0F, dst=1, src=2)), 0, Result(0, 1))  # r1 += r2


def test_patch_load_narrows_access() -> None:
    insns = bytearray(insn(0x79, dst=0, src=1, off=24))  # r0 = *(u64 *)(r1 + 24)
    patch_insn(insns, 0, Result(24, 48, orig_size=8, new_size=4))
    assert insns == insn(0x61, dst=0, src=1, off=48)  # r0 = *(u32 *)(r1 + 48)
    with pytest.raises(LoadError, match="accesses 4 bytes"):
        patch_insn(
            bytearray(insn(0x61, src=1, off=24)),
            0,
            Result(24, 48, orig_size=8, new_size=4),
        )
    with pytest.raises(LoadError, match="too big"):
        patch_insn(bytearray(insn(0x79, src=1, off=24)), 0, Result(24, 0x8000))
    wrong = bytearray(insn(0x79, src=1, off=24))
    patch_insn(
        wrong, 0, Result(24, 16, orig_size=8, new_size=4, fail_memsz_adjust=True)
    )
    assert wrong == insn(0x85, imm=POISON_IMM)


def test_patch_ld_imm64() -> None:
    insns = bytearray(insn(0x18, dst=1, imm=5) + insn(0))
    patch_insn(insns, 0, Result(5, 2**64 - 128))
    assert insns == insn(0x18, dst=1, imm=-128) + insn(0, imm=-1)
    with pytest.raises(LoadError, match="ld_imm64"):
        patch_insn(bytearray(insn(0x18, src=1, imm=5) + insn(0)), 0, Result(5, 1))


def test_poison_covers_both_halves_of_ld_imm64() -> None:
    insns = bytearray(insn(0x18, dst=1, imm=5) + insn(0) + insn(0x95))
    patch_insn(insns, 0, Result(0, 0, poison=True))
    assert insns == insn(0x85, imm=POISON_IMM) * 2 + insn(0x95)


def test_apply_names_the_failing_relocation() -> None:
    relocator = Relocator(local(), kernel())
    insns = bytearray(insn(0xB7, imm=0) + insn(0xB7, imm=3))
    relos = [
        CoreRelo(0, 4, "0:0", CoreKind.FIELD_BYTE_OFFSET),
        CoreRelo(8, 4, "0:1", CoreKind.FIELD_BYTE_OFFSET),  # holds 3, not 8
    ]
    with pytest.raises(LoadError, match=r"#1 \(field_byte_offset .* insn #1\)"):
        relocator.apply(insns, relos)
    with pytest.raises(LoadError, match="whole instruction"):
        relocator.apply(insns, [CoreRelo(4, 4, "0:0", CoreKind.FIELD_BYTE_OFFSET)])
