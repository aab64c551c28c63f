"""The C header writer (``skelgen vmlinux``) on BTF built by hand.

Each construct bpftool's header has to get right is in one small BTF: holes,
packed structs, bitfields, enums of every size and signedness, function
prototypes, type tags, clashing names, pointer loops, kfunc declarations.  The
expected spellings are bpftool 7.5's (libbpf's ``btf_dump``).  Then clang
compiles the header for BPF with a ``_Static_assert`` per member and size taken
from BTF: the header must give back BTF's layout, not just look like C.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import require
from libbpf_oracle import find_clang
from skelgen_runtime.btf import Btf, types as bt
from skelgen_runtime.errors import ObjectError

from skelgen.c_decl import declaration
from skelgen.c_header import c_header
from skelgen.ctypes_emit import GeneratorError

S = bt.IntEncoding.SIGNED
U = bt.IntEncoding(0)

# id: type  (ids are positions in this list)
TYPES: list[bt.BtfType] = [
    bt.Void(),
    bt.Int("int", 4, S, 0, 32),  # 1
    bt.Int("char", 1, S, 0, 8),  # 2
    bt.Int("long", 8, S, 0, 64),  # 3
    bt.Int("unsigned int", 4, U, 0, 32),  # 4
    # struct hole { char a; long b; char c; }: natural alignment says it all
    bt.Struct(  # 5
        "hole",
        24,
        [bt.Member("a", 2, 0), bt.Member("b", 3, 64), bt.Member("c", 2, 128)],
    ),
    # struct tight { char a; int b; } __attribute__((packed))
    bt.Struct("tight", 5, [bt.Member("a", 2, 0), bt.Member("b", 1, 8)]),  # 6
    # struct bits { unsigned int x: 3; /* jump to the next int */ unsigned int y: 5; }
    bt.Struct(  # 7
        "bits",
        8,
        [bt.Member("x", 4, 0, 3), bt.Member("y", 4, 32, 5)],
        kind_flag=True,
    ),
    bt.Enum(  # 8
        "sign", 4, [bt.EnumValue("NEG", -1), bt.EnumValue("POS", 1)], signed=True
    ),
    bt.Enum("huge", 8, [bt.EnumValue("HUGE", 0xFFFF_FFFF_FFFF_FFFF)], is64=True),  # 9
    bt.Enum("tiny", 1, [bt.EnumValue("TINY", 1)]),  # 10
    bt.Enum("wide", 8, [bt.EnumValue("WIDE", 2)], is64=True),  # 11: mode(word)
    bt.Enum("later", 4, []),  # 12: forward-declared enum
    bt.FuncProto("", 1, []),  # 13: int (void)
    bt.Ptr("", 13),  # 14
    bt.Typedef("getter_t", 14),  # 15
    bt.Ptr("", 2),  # 16: char *
    bt.FuncProto("", 1, [bt.Param("fmt", 16), bt.Param("", 0)]),  # 17: varargs
    bt.Ptr("", 17),  # 18
    bt.TypeTag("user", 1),  # 19
    bt.Ptr("", 19),  # 20: int __user *
    bt.TypeTag("address_space(1)", 0, kind_flag=True),  # 21
    bt.Ptr("", 21),  # 22
    bt.Struct("loop_a", 8, [bt.Member("b", 25, 0)]),  # 23
    bt.Struct("loop_b", 8, [bt.Member("a", 26, 0)]),  # 24
    bt.Ptr("", 24),  # 25
    bt.Ptr("", 23),  # 26
    bt.Struct(  # 27: uses everything above
        "all",
        88,
        [
            bt.Member("hole", 5, 0),
            bt.Member("tight", 6, 192),
            bt.Member("bits", 7, 256),
            bt.Member("sign", 8, 320),
            bt.Member("huge", 9, 384),
            bt.Member("tiny", 10, 448),
            bt.Member("wide", 11, 512),
            bt.Member("get", 15, 576),
            bt.Member("printf", 18, 640),
        ],
    ),
    bt.Struct("dup", 4, [bt.Member("x", 1, 0)]),  # 28
    bt.Struct("dup", 8, [bt.Member("y", 3, 0)]),  # 29: renamed dup___2
    bt.Struct("tags", 16, [bt.Member("u", 20, 0), bt.Member("p", 22, 64)]),  # 30
    bt.Enum("", 4, [bt.EnumValue("CONST_A", 7)]),  # 31: top-level constants
    bt.Struct("", 4, [bt.Member("v", 1, 0)]),  # 32
    bt.Typedef("anon_t", 32),  # 33: typedef struct { int v; } anon_t;
    bt.Typedef("__builtin_va_list", 16),  # 34: never redefined
    bt.FuncProto("", 1, [bt.Param("p", 20), bt.Param("n", 4)]),  # 35
    bt.Func("bpf_thing", 35, bt.FuncLinkage.GLOBAL),  # 36
    bt.DeclTag("bpf_kfunc", 36, -1),  # 37
    bt.DeclTag("bpf_fastcall", 36, -1),  # 38
    bt.Func("not_a_kfunc", 35, bt.FuncLinkage.GLOBAL),  # 39
    bt.Struct("uses_later", 8, [bt.Member("p", 41, 0)]),  # 40
    bt.Ptr("", 12),  # 41: enum later *
    # struct gap { char a; /* 7 bytes */ int b; }: the compiler would put b at 4
    bt.Struct("gap", 12, [bt.Member("a", 2, 0), bt.Member("b", 1, 64)]),  # 42
    # struct tail { long a; /* 16 bytes */ }
    bt.Struct("tail", 24, [bt.Member("a", 3, 0)]),  # 43
]


@pytest.fixture(scope="module")
def header() -> str:
    return c_header(Btf(list(TYPES), b""))


def block(header: str, start: str) -> str:
    """The top-level definition that begins with ``start``."""
    at = header.index(start)
    return header[at : header.index(";\n\n", at) + 1]


def test_holes_are_filled_and_packed_structs_marked(header: str) -> None:
    assert block(header, "struct hole {") == (
        "struct hole {\n\tchar a;\n\tlong b;\n\tchar c;\n};"
    )
    # an explicit alignment mark where the next member's own is too weak
    assert block(header, "struct gap {") == (
        "struct gap {\n\tchar a;\n\tlong: 0;\n\tint b;\n};"
    )
    assert block(header, "struct tail {") == (
        "struct tail {\n\tlong a;\n\tlong: 64;\n\tlong: 64;\n};"
    )
    assert block(header, "struct tight {") == (
        "struct tight {\n\tchar a;\n\tint b;\n} __attribute__((packed));"
    )
    # inside a run of bitfields the hole is written with its exact width
    assert block(header, "struct bits {") == (
        "struct bits {\n\tunsigned int x: 3;\n\tint: 29;\n\tunsigned int y: 5;\n};"
    )


def test_enums_keep_values_signedness_and_size(header: str) -> None:
    assert block(header, "enum sign {") == ("enum sign {\n\tNEG = -1,\n\tPOS = 1,\n};")
    assert block(header, "enum huge {") == (
        "enum huge {\n\tHUGE = 18446744073709551615ULL,\n};"
    )
    assert block(header, "enum tiny {") == (
        "enum tiny {\n\tTINY = 1,\n} __attribute__((mode(byte)));"
    )
    assert block(header, "enum wide {") == (
        "enum wide {\n\tWIDE = 2ULL,\n} __attribute__((mode(word)));"
    )
    assert "enum later;\n" in header


def test_function_prototypes(header: str) -> None:
    assert "typedef int (*getter_t)(void);\n" in header
    assert "\tint (*printf)(char *fmt, ...);\n" in block(header, "struct all {")


def test_type_tags_are_attributes(header: str) -> None:
    assert block(header, "struct tags {") == (
        "struct tags {\n"
        '\tint __attribute__((btf_type_tag("user"))) *u;\n'
        "\tvoid __attribute__((address_space(1))) *p;\n"
        "};"
    )


def test_clashing_names_get_numbered(header: str) -> None:
    assert "struct dup {\n\tint x;\n};" in header
    assert "struct dup___2 {\n\tlong y;\n};" in header


def test_order_constants_first_then_forward_declarations_for_loops(
    header: str,
) -> None:
    body = header[header.index("#endif\n#endif\n\n") :]
    assert body.index("enum {\n\tCONST_A = 7,\n};") < body.index("enum huge")
    # a loop through pointers: one side is declared before it is defined
    assert body.index("struct loop_b;\n") < body.index("struct loop_a {")
    assert body.index("struct loop_a {") < body.index("struct loop_b {")
    # embedded types are defined before the struct that embeds them
    for inner in ("struct hole {", "struct bits {", "typedef int (*getter_t)"):
        assert body.index(inner) < body.index("struct all {")
    assert "typedef struct {\n\tint v;\n} anon_t;" in header
    assert "__builtin_va_list" not in header


def test_kfuncs_are_declared_weak_ksyms(header: str) -> None:
    assert (
        "\n/* BPF kfuncs */\n#ifndef BPF_NO_KFUNC_PROTOTYPES\n"
        "extern __bpf_fastcall int bpf_thing("
        'int __attribute__((btf_type_tag("user"))) *p, unsigned int n)'
        " __weak __ksym;\n#endif\n"
    ) in header
    assert "not_a_kfunc" not in header


def test_guards_and_preserve_access_index(header: str) -> None:
    assert header.startswith(
        "#ifndef __VMLINUX_H__\n#define __VMLINUX_H__\n\n"
        "#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n"
        "#pragma clang attribute push (__attribute__((preserve_access_index)),"
        " apply_to = record)\n#endif\n"
    )
    assert header.endswith(
        "#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n#pragma clang attribute pop\n"
        "#endif\n\n#endif /* __VMLINUX_H__ */\n"
    )


def _layout_asserts(btf: Btf, names: dict[int, str]) -> str:
    lines = []
    for type_id, c_name in names.items():
        item = btf[type_id]
        assert isinstance(item, bt.Struct)
        lines.append(f'_Static_assert(sizeof({c_name}) == {item.size}, "{c_name}");')
        for m in item.members:
            if not m.bitfield_size:
                lines.append(
                    f"_Static_assert(__builtin_offsetof({c_name}, {m.name}) =="
                    f' {m.bit_offset // 8}, "{c_name}.{m.name}");'
                )
    return "\n".join(lines) + "\n"


def test_clang_compiles_the_header_with_btf_layout(header: str, tmp_path: Path) -> None:
    clang = find_clang()
    require(clang is not None, "no clang")
    assert clang is not None
    btf = Btf(list(TYPES), b"")
    structs = {
        type_id: f"struct {item.name}"
        for type_id, item in enumerate(TYPES)
        if isinstance(item, bt.Struct) and item.name and type_id != 29
    }
    structs[29] = "struct dup___2"
    (tmp_path / "vmlinux.h").write_text(header)
    source = tmp_path / "check.c"
    source.write_text('#include "vmlinux.h"\n' + _layout_asserts(btf, structs))
    proc = subprocess.run(
        [clang, "-target", "bpf", "-fsyntax-only", "-Werror", str(source)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr


def test_loops_and_dangling_references_are_errors() -> None:
    looping: list[bt.BtfType] = [bt.Void(), bt.Const("", 2), bt.Volatile("", 1)]
    looping.append(bt.Struct("s", 8, [bt.Member("x", 1, 0)]))
    with pytest.raises(GeneratorError):
        c_header(Btf(looping, b""))
    embedded: list[bt.BtfType] = [bt.Void(), bt.Struct("", 4, [bt.Member("x", 1, 0)])]
    with pytest.raises(GeneratorError, match="contains itself"):
        c_header(Btf(embedded, b""))
    dangling: list[bt.BtfType] = [bt.Void(), bt.Struct("s", 4, [bt.Member("x", 9, 0)])]
    with pytest.raises(ObjectError, match="refers to type 9"):
        c_header(Btf(dangling, b""))


def test_comment_declarations_share_the_declarator_rules() -> None:
    btf = Btf(list(TYPES), b"")
    const_ptr = btf.add(bt.Const("", 16))  # char * const
    assert declaration(btf, const_ptr, "p") == "char * const p"
    assert declaration(btf, 18, "f") == "int (*f)(char *fmt, ...)"
    assert declaration(btf, 32, "s") == "struct (anon) s"
    assert declaration(btf, 20, "u") == "int *u"  # no attributes in comments
