"""Externs without a kernel: open-time layout (externs.py), kconfig values
(kconfig.py) and ksym resolution (ksyms.py) against hand-built BTF and text."""

from __future__ import annotations

import pytest
from skelgen_runtime.btf import Btf, codec, types as t
from skelgen_runtime.btf.lazy import LazyBtf
from skelgen_runtime.errors import LoadError, ObjectError
from skelgen_runtime.kernel.kconfig import (
    KconfigFiller,
    config_lines,
    kernel_version,
    resolve_kconfig,
)
from skelgen_runtime.kernel.ksyms import kallsyms_addresses, resolve_ksyms
from skelgen_runtime.obj.externs import DUMMY_KSYM, collect_externs
from skelgen_runtime.obj.spec import ExternKind, ExternSpec, KconfigType

S = t.IntEncoding.SIGNED
EXTERN = t.VarLinkage.GLOBAL_EXTERN


def object_btf() -> Btf:
    """What clang emits for a few __kconfig and __ksym externs."""
    types: list[t.BtfType] = [
        t.Void(),
        t.Int("bool", 1, t.IntEncoding.BOOL, 0, 8),  # 1
        t.Int("int", 4, S, 0, 32),  # 2
        t.Int("unsigned long long", 8, t.IntEncoding(0), 0, 64),  # 3
        t.Int("char", 1, S, 0, 8),  # 4
        t.Array("", 4, 2, 8),  # 5: char[8]
        t.Enum("libbpf_tristate", 4, [t.EnumValue("TRI_NO", 0)]),  # 6
        t.Var("CONFIG_A", 1, EXTERN),  # 7
        t.Var("CONFIG_B", 3, EXTERN),  # 8
        t.Var("CONFIG_C", 5, EXTERN),  # 9
        t.Var("CONFIG_D", 6, EXTERN),  # 10
        t.Var("LINUX_KERNEL_VERSION", 2, EXTERN),  # 11
        t.Datasec(".kconfig", 0, [t.VarSecinfo(i, 0, 0) for i in (7, 8, 9, 10, 11)]),
        t.FuncProto("", 2, [t.Param("", 2)]),  # 13: nameless parameter
        t.Func("kfunc", 13, t.FuncLinkage.EXTERN),  # 14
        t.Const("", 0),  # 15: const void
        t.Var("untyped", 15, EXTERN),  # 16
        t.Var("typed", 2, EXTERN),  # 17
        t.Datasec(".ksyms", 0, [t.VarSecinfo(i, 0, 0) for i in (14, 16, 17)]),  # 18
    ]
    return Btf(types, b"\0")


SYMBOLS = [
    ("CONFIG_A", True),
    ("CONFIG_B", False),
    ("CONFIG_C", True),
    ("CONFIG_D", True),
    ("LINUX_KERNEL_VERSION", False),
    ("kfunc", True),
    ("untyped", False),
    ("typed", True),
]


def test_kconfig_layout_is_libbpfs() -> None:
    btf = object_btf()
    externs, kconfig = collect_externs(btf, SYMBOLS)
    # by alignment (largest first), then size, then name
    assert list(externs)[:5] == [
        "CONFIG_B",
        "CONFIG_D",
        "LINUX_KERNEL_VERSION",
        "CONFIG_A",
        "CONFIG_C",
    ]
    assert [(e.offset, e.size) for e in list(externs.values())[:5]] == [
        (0, 8),
        (8, 4),
        (12, 4),
        (16, 1),
        (17, 8),
    ]
    assert kconfig is not None and kconfig.size == 25 and kconfig.readonly
    assert [v.name for v in kconfig.variables] == list(externs)[:5]
    datasec = btf[12]
    assert isinstance(datasec, t.Datasec) and datasec.size == 25
    assert [v.offset for v in datasec.vars] == [0, 8, 12, 16, 17]  # sorted
    assert all(
        isinstance(v := btf[i], t.Var) and v.linkage == t.VarLinkage.GLOBAL_ALLOCATED
        for i in (7, 8, 9, 10, 11)
    )
    kinds = {e.name: e.kconfig_type for e in externs.values()}
    assert kinds["CONFIG_A"] == KconfigType.BOOL
    assert kinds["CONFIG_C"] == KconfigType.CHAR_ARRAY
    assert kinds["CONFIG_D"] == KconfigType.TRISTATE


def test_ksyms_become_ints_the_kernel_accepts() -> None:
    btf = object_btf()
    externs, _ = collect_externs(btf, SYMBOLS)
    kfunc, untyped, typed = externs["kfunc"], externs["untyped"], externs["typed"]
    assert (kfunc.is_func, kfunc.type_id) == (True, 13)
    assert (untyped.type_id, typed.type_id) == (0, 2)  # const void → untyped
    dummy = len(btf.types) - 1
    assert btf[dummy] == t.Var(DUMMY_KSYM, 2, t.VarLinkage.GLOBAL_ALLOCATED)
    func, proto = btf[14], btf[13]
    assert isinstance(func, t.Func) and func.linkage == t.FuncLinkage.GLOBAL
    assert isinstance(proto, t.FuncProto) and proto.params[0].name == DUMMY_KSYM
    assert btf[16] == t.Var("untyped", 2, t.VarLinkage.GLOBAL_ALLOCATED)
    section = btf[18]
    assert section == t.Datasec(
        ".ksyms",
        12,
        [t.VarSecinfo(dummy, 0, 4), t.VarSecinfo(16, 4, 4), t.VarSecinfo(17, 8, 4)],
    )
    # and the whole still encodes and decodes
    assert Btf.from_bytes(btf.encode()).types == btf.types


def test_bad_externs() -> None:
    with pytest.raises(ObjectError, match="no BTF"):
        collect_externs(object_btf(), [("not_declared", False)])
    btf = object_btf()
    btf.types[7] = t.Var("CONFIG_A", 1, t.VarLinkage.GLOBAL_ALLOCATED)
    with pytest.raises(ObjectError, match="not an extern"):
        collect_externs(btf, [("CONFIG_A", False)])
    btf = object_btf()
    btf.types[7] = t.Var("CONFIG_A", 15, EXTERN)  # const void: no size
    with pytest.raises(ObjectError):
        collect_externs(btf, [("CONFIG_A", False)])
    assert collect_externs(object_btf(), []) == ({}, None)


# -- kconfig values -------------------------------------------------------------------


def kconfig_extern(
    name: str, kind: KconfigType, size: int, offset: int = 0, signed: bool = False
) -> ExternSpec:
    return ExternSpec(
        name,
        ExternKind.KCONFIG,
        0,
        True,
        0,
        offset=offset,
        size=size,
        kconfig_type=kind,
        signed=signed,
    )


def fill(ext: ExternSpec, line: str) -> bytes:
    data = bytearray(ext.offset + ext.size)
    KconfigFiller([ext], data).apply_config([line], "test")
    return bytes(data)


@pytest.mark.parametrize(
    ("kind", "size", "signed", "value", "stored"),
    [
        (KconfigType.BOOL, 1, False, "y", b"\1"),
        (KconfigType.BOOL, 1, False, "n", b"\0"),
        (KconfigType.TRISTATE, 4, False, "m", b"\2\0\0\0"),
        (KconfigType.TRISTATE, 4, False, "y", b"\1\0\0\0"),
        (KconfigType.CHAR, 1, True, "m", b"m"),
        (KconfigType.INT, 4, True, "250", b"\xfa\0\0\0"),
        (KconfigType.INT, 8, False, "0x1000000", (1 << 24).to_bytes(8, "little")),
        (KconfigType.INT, 4, False, "010", b"\x08\0\0\0"),  # octal, as strtoull
        (KconfigType.INT, 4, True, "-1", b"\xff\xff\xff\xff"),
        (KconfigType.CHAR_ARRAY, 8, False, '"bbr"', b"bbr\0\0\0\0\0"),
        (KconfigType.CHAR_ARRAY, 4, False, '"toolong"', b"too\0"),  # truncated
    ],
)
def test_config_values(
    kind: KconfigType, size: int, signed: bool, value: str, stored: bytes
) -> None:
    ext = kconfig_extern("CONFIG_X", kind, size, signed=signed)
    assert fill(ext, f"CONFIG_X={value}\n") == stored


@pytest.mark.parametrize(
    ("kind", "size", "signed", "value"),
    [
        (KconfigType.BOOL, 1, False, "m"),  # a bool cannot be a module
        (KconfigType.INT, 4, False, "y"),
        (KconfigType.INT, 1 + 1, False, "70000"),  # does not fit in 16 bits
        (KconfigType.INT, 4, True, "0x80000000"),  # does not fit in s32
        (KconfigType.INT, 4, False, "12abc"),
        (KconfigType.TRISTATE, 4, False, "3"),
        (KconfigType.CHAR_ARRAY, 8, False, "bbr"),
        (KconfigType.INT, 4, False, '"1"'),
    ],
)
def test_config_values_that_do_not_fit(
    kind: KconfigType, size: int, signed: bool, value: str
) -> None:
    with pytest.raises(LoadError):
        fill(kconfig_extern("CONFIG_X", kind, size, signed=signed), f"CONFIG_X={value}")


def test_config_lines_and_errors() -> None:
    assert config_lines({"CONFIG_A": True, "CONFIG_B": 3, "CONFIG_C": '"x"'}) == [
        "CONFIG_A=y",
        "CONFIG_B=3",
        'CONFIG_C="x"',
    ]
    with pytest.raises(LoadError):
        config_lines({"CONFIG_A": 1.5})
    ext = kconfig_extern("CONFIG_X", KconfigType.INT, 4)
    with pytest.raises(LoadError, match="cannot parse"):
        fill(ext, "CONFIG_X")
    assert fill(ext, "# CONFIG_X is not set") == bytes(4)


def test_resolve_kconfig_overrides_and_virtual_values() -> None:
    externs = [
        kconfig_extern("CONFIG_A", KconfigType.BOOL, 1, offset=0),
        kconfig_extern("LINUX_KERNEL_VERSION", KconfigType.INT, 4, offset=4),
        kconfig_extern("LINUX_UNKNOWN", KconfigType.INT, 4, offset=8),  # weak: 0
    ]
    data = bytearray(12)
    calls: list[str] = []

    def version() -> int:
        calls.append("version")
        return 0x6122C

    # every CONFIG_ given: the kernel's config is not read
    resolve_kconfig(
        externs, data, {"LINUX_KERNEL_VERSION": version}, {"CONFIG_A": True}
    )
    assert data == b"\1\0\0\0" + (0x6122C).to_bytes(4, "little") + bytes(4)
    assert calls == ["version"]
    strong = [
        ExternSpec(
            "LINUX_NOPE",
            ExternKind.KCONFIG,
            0,
            False,
            0,
            size=4,
            kconfig_type=KconfigType.INT,
        )
    ]
    with pytest.raises(LoadError, match="unknown virtual"):
        resolve_kconfig(strong, bytearray(4), {}, {})


def test_kernel_version() -> None:
    assert kernel_version("6.18.44-arch1", "") == (6 << 16) + (18 << 8) + 44
    assert (
        kernel_version("5.4.0-12", "Ubuntu 5.4.0-12.15-generic 5.4.8\n")
        == (5 << 16) + (4 << 8) + 8
    )
    assert kernel_version("4.19.300", "") == (4 << 16) + (19 << 8) + 255
    assert kernel_version("6.18", "") == 0


# -- ksyms ---------------------------------------------------------------------------

KALLSYMS = b"""\
ffffffff81000000 T _stext
ffffffff814e61b0 T bpf_prog_put
ffffffff814e61b0 t bpf_prog_put_deferred
ffffffffc0001000 t modsym\t[somemod]
ffffffff81000010 T twice
ffffffff81000020 t twice
"""


def test_kallsyms_addresses() -> None:
    found = kallsyms_addresses(KALLSYMS, ["bpf_prog_put", "modsym", "absent"])
    assert found == {"bpf_prog_put": 0xFFFFFFFF814E61B0, "modsym": 0xFFFFFFFFC0001000}
    with pytest.raises(LoadError, match="twice"):
        kallsyms_addresses(KALLSYMS, ["twice"])


def kernel_btf() -> LazyBtf:
    types: list[t.BtfType] = [
        t.Int("int", 4, S, 0, 32),  # 1
        t.FuncProto("", 1, [t.Param("x", 1)]),  # 2
        t.Func("kfunc", 2, t.FuncLinkage.GLOBAL),  # 3
        t.Var("typed", 1, t.VarLinkage.GLOBAL_ALLOCATED),  # 4
    ]
    return LazyBtf(codec.encode(types, codec.StringTable()))


def test_resolve_ksyms() -> None:
    btf = object_btf()
    externs, _ = collect_externs(btf, SYMBOLS)
    vmlinux = kernel_btf()
    kallsyms = b"ffffffff81000100 T untyped\n"
    result = resolve_ksyms(
        externs.values(),
        btf,
        lambda: vmlinux,
        lambda: [],
        lambda name: pytest.fail("no module needed"),
        lambda: kallsyms,
    )
    assert result.values["untyped"].address == 0xFFFFFFFF81000100
    assert result.values["kfunc"].btf_id == 3
    assert result.values["typed"].btf_id == 4
    assert result.fd_array == [] and result.module_fds == {}


def test_ksyms_in_modules_and_missing_ones() -> None:
    btf = object_btf()
    externs, _ = collect_externs(btf, SYMBOLS)
    empty = LazyBtf(codec.encode([t.Int("int", 4, S, 0, 32)], codec.StringTable()))
    module = kernel_btf()  # not split, which is enough for the lookup
    opened: list[str] = []

    def module_fd(name: str) -> int:
        opened.append(name)
        return 42

    result = resolve_ksyms(
        externs.values(),
        btf,
        lambda: empty,
        lambda: [("mod", module)],
        module_fd,
        lambda: b"ffffffff81000100 T untyped\n",
    )
    kfunc = result.values["kfunc"]
    assert (kfunc.btf_id, kfunc.btf_fd, kfunc.fd_index) == (3, 42, 1)
    assert result.fd_array == [0, 42]
    assert result.values["typed"].btf_fd == 42
    assert opened == ["mod"] and result.module_fds == {"mod": 42}
    # weak and nowhere: zero; strong and nowhere: an error
    result = resolve_ksyms(
        externs.values(),
        btf,
        lambda: empty,
        lambda: [],
        module_fd,
        lambda: b"ffffffff81000100 T untyped\n",
    )
    assert result.values["kfunc"].btf_id == 0
    with pytest.raises(LoadError, match="untyped"):
        resolve_ksyms(
            externs.values(), btf, lambda: empty, lambda: [], module_fd, lambda: b""
        )
