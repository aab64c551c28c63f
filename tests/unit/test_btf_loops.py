"""BTF that loops, nests without end or lies about sizes is an ObjectError naming the
type — from the model itself, so every user (sizes, alignment, the generator's C
declarations and ctypes classes, CO-RE) is safe, and in bounded time."""

from __future__ import annotations

import pytest
from skelgen_runtime import ObjectError
from skelgen_runtime.btf import Btf, types as t
from skelgen_runtime.btf.btf import MAX_CHAIN
from skelgen_runtime.btf.codec import StringTable, encode
from skelgen_runtime.btf.validate import MAX_NESTING

INT = t.Int("int", 4, t.IntEncoding.SIGNED, 0, 32)


def raw(*types: t.BtfType) -> bytes:
    """Types (ids from 1) as a BTF blob."""
    return encode(list(types), StringTable())


def unchecked(*types: t.BtfType) -> Btf:
    """A model that skipped validation, as a hand-built or custom BTF can be."""
    return Btf([t.Void(), *types], b"\0")


@pytest.mark.parametrize(
    ("types", "message"),
    [
        ([t.Typedef("loop", 1)], "BTF type 1 (TYPEDEF 'loop') refers to itself"),
        ([t.Const("", 2), t.Volatile("", 1)], "refers to itself"),
        ([t.Ptr("", 1)], "BTF type 1 (PTR) refers to itself"),
        ([t.Array("", 1, 1, 4)], "refers to itself"),
        (
            [INT, t.Struct("s", 8, [t.Member("a", 1, 0), t.Member("me", 2, 32)])],
            "BTF type 2 (STRUCT 's') contains itself",
        ),
        (
            [
                t.Struct("s", 4, [t.Member("a", 2, 0)]),
                t.Typedef("s_t", 3),
                t.Array("", 1, 1, 1),
            ],
            "contains itself",
        ),
        (
            [
                t.Struct("a", 4, [t.Member("b", 2, 0)]),
                t.Union("b", 4, [t.Member("a", 1, 0)]),
            ],
            "contains itself",
        ),
        ([t.FuncProto("", 2, []), t.Ptr("", 1)], "refers to itself"),
        ([t.Ptr("", 7)], "BTF type 1 (PTR) refers to type 7, which does not exist"),
        ([INT, t.Func("f", 1, t.FuncLinkage.GLOBAL)], "is not of a function prototype"),
        ([INT, t.Datasec(".data", 4, [t.VarSecinfo(1, 0, 4)])], "not a variable"),
    ],
    ids=[
        "typedef-of-itself",
        "const-volatile-loop",
        "pointer-to-itself",
        "array-of-itself",
        "struct-holds-itself",
        "struct-holds-itself-via-typedef-array",
        "struct-union-hold-each-other",
        "function-pointer-returns-itself",
        "missing-type",
        "function-of-an-int",
        "datasec-of-an-int",
    ],
)
def test_a_loop_or_a_missing_type_is_refused_naming_the_type(
    types: list[t.BtfType], message: str
) -> None:
    with pytest.raises(
        ObjectError, match=message.replace("(", r"\(").replace(")", r"\)")
    ):
        Btf.from_bytes(raw(*types))


def test_a_struct_pointing_at_itself_is_fine() -> None:
    node = t.Struct("node", 16, [t.Member("value", 3, 0), t.Member("next", 2, 64)])
    btf = Btf.from_bytes(raw(node, t.Ptr("", 1), INT))
    assert btf.size_of(1) == 16
    assert btf.align_of(1) == 8


@pytest.mark.parametrize("kind", [t.Typedef, t.Const, t.Array, t.Struct, t.Ptr])
def test_nesting_is_bounded(kind: type) -> None:
    def level(inner: int) -> t.BtfType:
        if kind is t.Array:
            return t.Array("", inner, 1, 1)
        if kind is t.Struct:
            return t.Struct("s", 4, [t.Member("m", inner, 0)])
        return kind("n", inner)  # type: ignore[no-any-return]

    deep = [INT] + [level(i) for i in range(1, MAX_NESTING + 2)]
    with pytest.raises(ObjectError, match=f"more than {MAX_NESTING} deep"):
        Btf.from_bytes(raw(*deep))
    shallow = deep[: MAX_NESTING // 2]
    Btf.from_bytes(raw(*shallow))


def test_resolution_is_bounded_without_validation() -> None:
    """Queries end on a model nobody validated (a custom or hand-built BTF)."""
    looped = unchecked(t.Const("", 2), t.Volatile("", 1))
    for query in (
        looped.resolve,
        looped.skip_modifiers,
        looped.size_of,
        looped.align_of,
    ):
        with pytest.raises(ObjectError, match="refers to itself"):
            query(1)
    chain = unchecked(INT, *[t.Typedef("t", i) for i in range(1, MAX_CHAIN + 3)])
    with pytest.raises(ObjectError, match=f"more than {MAX_CHAIN}"):
        chain.resolve(len(chain) - 1)
    assert chain.resolve(MAX_CHAIN) == 1
    holds_itself = unchecked(t.Struct("s", 4, [t.Member("me", 1, 0)]))
    with pytest.raises(ObjectError, match="contain itself"):
        holds_itself.align_of(1)


def test_a_size_beyond_u32_is_refused() -> None:
    largest = (1 << 30) - 1
    btf = Btf.from_bytes(raw(INT, t.Array("", 1, 1, largest), t.Array("", 2, 1, 2)))
    assert btf.size_of(2) == 4 * largest
    with pytest.raises(ObjectError, match="more than BTF can describe"):
        btf.size_of(3)


def test_unknown_linkage_is_an_object_error() -> None:
    blob = bytearray(raw(INT, t.Var("v", 1, t.VarLinkage.GLOBAL_ALLOCATED)))
    # the VAR's linkage word is the last word of the type section
    header_len, type_len = 24, int.from_bytes(blob[12:16], "little")
    blob[header_len + type_len - 4 : header_len + type_len] = (7).to_bytes(4, "little")
    with pytest.raises(ObjectError, match="unknown linkage 7"):
        Btf.from_bytes(bytes(blob))
