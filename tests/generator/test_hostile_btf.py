"""Names no C compiler would emit still give a valid, harmless, black-formatted module.

BTF is built by hand (``codec.encode``) with names holding quotes, newlines,
backslashes and ``"); import os; ("``, wrapped in an ObjectSpec whose maps,
programs, variables, section and licence are just as hostile.  The module must
parse, contain nothing but the statements a generated module is made of, import,
and still lay the types out from their BTF offsets — including the encodings
clang no longer emits (bitfields described by narrow INTs, no kind_flag).
"""

from __future__ import annotations

import ctypes
from pathlib import Path
from typing import Any

import black
import pytest
from generated import import_file
from skelgen_runtime.btf import Btf, BtfExt, types as bt
from skelgen_runtime.btf.codec import StringTable, encode
from skelgen_runtime.cdata.types import BitField
from skelgen_runtime.obj.spec import (
    DatasecSpec,
    FunctionSpec,
    MapSpec,
    ObjectSpec,
    ProgramSpec,
    VariableSpec,
)
from skelgen_runtime.uapi.bpf import MapType

from fuzz.safety import unexpected_statements
from skelgen.ctypes_emit import GeneratorError, TypeEmitter
from skelgen.module import Generated, Options, build
from skelgen.naming import Scope

EVIL = '"); import os; ("'
SIGNED = bt.IntEncoding.SIGNED
UNSIGNED = bt.IntEncoding(0)

# id: type  (ids are positions in this list + 1)
TYPES: list[bt.BtfType] = [
    bt.Int("int", 4, SIGNED, 0, 32),  # 1
    bt.Int("char", 1, SIGNED, 0, 8),  # 2
    bt.Struct(  # 3
        EVIL,
        16,
        [
            bt.Member('a"b', 1, 0),
            bt.Member("x\ny", 1, 32),
            bt.Member("class", 1, 64),
            bt.Member("'''", 1, 96),
        ],
    ),
    bt.Union('evil\\"\n', 16, [bt.Member("s\u2028", 1, 0)]),  # 4: aligned(16) union
    bt.Enum(  # 5
        'e"num',
        4,
        [
            bt.EnumValue(f"A{EVIL}", 1),
            bt.EnumValue("B\nC", 2),
            bt.EnumValue("_x", 3),
            bt.EnumValue("None", -4),
            bt.EnumValue("real", 5),
        ],
        signed=True,
    ),
    bt.Typedef(f"t{EVIL}", 3),  # 6
    bt.Int("u3", 4, UNSIGNED, 0, 3),  # 7: pre-kind_flag bitfield storage
    bt.Int("s5", 4, SIGNED, 0, 5),  # 8
    bt.Int("u3_at_2", 4, UNSIGNED, 2, 3),  # 9: INT with its own bit offset
    bt.Struct(  # 10
        "legacy",
        4,
        [bt.Member("lo", 7, 0), bt.Member("mid", 8, 3), bt.Member("hi", 9, 8)],
    ),
    bt.Float("_Float16", 2),  # 11
    bt.Int("unsigned __int128", 16, UNSIGNED, 0, 128),  # 12
    bt.Struct("", 4, [bt.Member('"quoted"', 1, 0)]),  # 13: anonymous, flattened into 14
    bt.Struct(  # 14
        "outer",
        56,
        [
            bt.Member("", 13, 0),
            bt.Member("half", 11, 32),
            bt.Member("wide", 12, 128),
            bt.Member("e", 5, 256),
            bt.Member("t", 6, 320),
        ],
    ),
    bt.Var(f"v{EVIL}", 14, bt.VarLinkage.GLOBAL_ALLOCATED),  # 15
    bt.Datasec(".data", 56, [bt.VarSecinfo(15, 0, 56)]),  # 16
    bt.Union("u", 16, [bt.Member("l", 10, 0), bt.Member("v", 4, 0)]),  # 17
    bt.TypeTag("user", 1),  # 18: stripped
    bt.Struct("tagged", 8, [bt.Member("x", 18, 0), bt.Member("f", 21, 32)]),  # 19
    bt.DeclTag("ignored", 19, -1),  # 20
    bt.Float("float", 4),  # 21
]


def _spec() -> ObjectSpec:
    btf = Btf.from_bytes(encode(TYPES, StringTable()))
    data = DatasecSpec(
        ".data",
        56,
        bytearray(56),
        16,
        [VariableSpec(f"v{EVIL}", 0, 56, 14, bt.VarLinkage.GLOBAL_ALLOCATED)],
    )
    evil_map = MapSpec(
        f"m{EVIL}", MapType.HASH, 4, 16, 1, btf_key_type_id=1, btf_value_type_id=17
    )
    data_map = MapSpec(".data", MapType.ARRAY, 4, 56, 1, datasec=data)
    function = FunctionSpec(f"p{EVIL}", f"syscall/{EVIL}", 0, bytes(16))
    program = ProgramSpec(f"p{EVIL}", f"syscall/{EVIL}", None, function)
    return ObjectSpec(
        name="hostile_bpf",
        btf=btf,
        btf_ext=BtfExt.empty(),
        license=f"GPL{EVIL}\n",
        kern_version=0,
        maps={evil_map.name: evil_map, ".data": data_map},
        programs={program.name: program},
        subprograms={},
        datasecs={".data": data},
    )


def _generate(tmp_path: Path) -> tuple[str, Generated]:
    options = Options(
        source_name=f"x{EVIL}\n.o",
        embed=False,
        object_path=f"/nonexistent/{EVIL}\n",
        all_types=True,
    )
    generated = build(_spec(), b"\x7fELF not used", options)
    return generated.source, generated


def test_hostile_names_give_a_valid_harmless_black_formatted_module(
    tmp_path: Path,
) -> None:
    source, _ = _generate(tmp_path)
    assert black.format_str(source, mode=black.Mode()) == source
    assert unexpected_statements(source) == []


def test_a_forbidden_statement_is_noticed() -> None:
    """The checker above can fail."""
    assert unexpected_statements("import os\nos.system('id')\n") != []
    assert unexpected_statements("class a:\n    x = __import__('os')\n") != []


def test_hostile_module_imports_and_lays_types_out_from_btf(tmp_path: Path) -> None:
    source, generated = _generate(tmp_path)
    path = tmp_path / "hostile_skel.py"
    path.write_text(source)
    module = import_file(path)
    types = generated.types

    def cls(type_id: int) -> Any:
        return getattr(module, types.names[type_id])

    evil = cls(3)
    info = types.classes[evil.__name__]
    offsets = {
        c: getattr(evil, info.attribute(c)).offset
        for c in ('a"b', "x\ny", "class", "'''")
    }
    assert offsets == {'a"b': 0, "x\ny": 4, "class": 8, "'''": 12}
    assert all(m.name.isidentifier() for m in info.members)
    assert ctypes.sizeof(cls(4)) == 16  # a union larger than its members

    legacy = vars(cls(10))
    positions = {
        n: (legacy[n].byte_offset * 8 + legacy[n].shift, legacy[n].bits)
        for n in ("lo", "mid", "hi")
    }
    assert positions == {"lo": (0, 3), "mid": (3, 5), "hi": (10, 3)}
    assert isinstance(legacy["mid"], BitField) and legacy["mid"].signed

    outer = cls(14)
    outer_info = types.classes[outer.__name__]
    assert getattr(outer, outer_info.attribute('"quoted"')).offset == 0
    assert [
        getattr(outer, outer_info.attribute(n)).offset
        for n in ("half", "wide", "e", "t")
    ] == [4, 16, 32, 40]
    assert ctypes.sizeof(outer) == 56

    tagged = cls(19)
    assert [(f[0], f[1]) for f in tagged._fields_] == [
        ("x", ctypes.c_int32),
        ("f", ctypes.c_float),
    ]

    enum_class = cls(5)
    assert sorted(m.value for m in enum_class) == [-4, 1, 2, 3, 5]
    assert getattr(module, types.names[6]) is evil  # the typedef aliases the struct

    skeleton = module.HostileBpf
    assert list(skeleton._programs_.values()) == [f"p{EVIL}"]
    assert [v[0] for v in skeleton._maps_.values()] == [f"m{EVIL}", ".data"]
    assert skeleton._object_path_ == f"/nonexistent/{EVIL}\n"


@pytest.mark.parametrize(
    ("members", "message"),
    [
        ([bt.Member("a", 1, 0), bt.Member("b", 1, 32)], "members need 8 bytes"),
        ([bt.Member("a", 1, 0, 3), bt.Member("b", 1, 30, 3)], "members need 5 bytes"),
        ([bt.Member("a", 1, 16), bt.Member("b", 1, 0)], "member 'a' overlaps"),
    ],
    ids=["past-the-end", "bitfield-past-the-end", "overlap"],
)
def test_inconsistent_btf_is_a_generator_error(
    members: list[bt.Member], message: str
) -> None:
    types: list[bt.BtfType] = [
        bt.Int("int", 4, SIGNED, 0, 32),
        bt.Struct("bad", 4, members),
    ]
    emitter = TypeEmitter(Btf.from_bytes(encode(types, StringTable())), Scope())
    with pytest.raises(GeneratorError, match=message):
        emitter.ctype(2, "")
