"""Checks the gcc layout oracle against layouts worked out by hand.

The expected numbers follow from the SysV/BPF layout rules and are
annotated next to each type in tests/bpf/types_*.bpf.c.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # no conftest/package

from c_layout import MemberLayout, OracleError, TypeLayout, c_layouts

CORPUS = Path(__file__).resolve().parent.parent / "bpf"
SECTIONS = {".bss", ".data", ".rodata", ".data.custom", ".rodata.custom"}

Layouts = dict[str, TypeLayout]


def _require_tools() -> None:
    missing = [t for t in ("clang-19", "bpftool", "gcc") if shutil.which(t) is None]
    if missing:
        pytest.skip(f"missing tools: {', '.join(missing)}")


def _clang_includes() -> list[str]:
    # <linux/bpf.h> needs <asm/types.h>, which lives in the multiarch dir.
    triplet = subprocess.run(
        ["gcc", "-print-multiarch"], capture_output=True, text=True, check=False
    ).stdout.strip()
    asm_dir = Path("/usr/include") / triplet
    return [f"-I{asm_dir}"] if triplet and asm_dir.is_dir() else []


@pytest.fixture(scope="module")
def layouts_of(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Layouts]:
    """Compile a corpus file once and return its oracle layouts."""
    _require_tools()
    cache: dict[str, Layouts] = {}

    def get(stem: str) -> Layouts:
        if stem not in cache:
            tmp = tmp_path_factory.mktemp(stem)
            obj = tmp / f"{stem}.bpf.o"
            src = CORPUS / f"{stem}.bpf.c"
            argv = ["clang-19", "-g", "-O2", "-target", "bpf", "-Wall", "-Werror"]
            argv += [*_clang_includes(), "-c", str(src), "-o", str(obj)]
            proc = subprocess.run(argv, capture_output=True, text=True, check=False)
            assert proc.returncode == 0, proc.stderr
            cache[stem] = c_layouts(obj, tmp / "oracle")
        return cache[stem]

    return get


def _bits(m: MemberLayout) -> tuple[int | None, int | None]:
    return m.bit_offset, m.bit_size


@pytest.mark.parametrize("stem", ["types_bitfields", "types_layout", "types_names"])
def test_every_corpus_file_has_all_sections(
    layouts_of: Callable[[str], Layouts], stem: str
) -> None:
    layouts = layouts_of(stem)
    sections = {k.removeprefix("datasec ") for k in layouts if k.startswith("datasec ")}
    assert sections == SECTIONS
    bss = layouts["datasec .bss"]
    assert bss.name == f"struct {stem}_bpf__bss"
    for t in layouts.values():
        for m in t.members:
            assert (m.bit_offset is None) == (m.bit_size is None)
            assert m.offset + m.size <= t.size


def test_bitfields(layouts_of: Callable[[str], Layouts]) -> None:
    lay = layouts_of("types_bitfields")

    basic = lay["struct bf_basic"]
    assert (basic.size, basic.align) == (8, 4)
    assert _bits(basic.member("a")) == (0, 3)
    assert _bits(basic.member("b")) == (8, 7)  # does not fit after a
    c = basic.member("c")  # straddles bytes 2 and 3
    assert (_bits(c), c.offset, c.size) == ((16, 9), 2, 2)
    assert _bits(basic.member("s")) == (25, 5)
    assert basic.member("tail") == MemberLayout("tail", 4, 4, None, None)

    u64 = lay["struct bf_u64"]
    assert _bits(u64.member("mid")) == (30, 10)  # crosses bit 32
    assert _bits(u64.member("neg")) == (40, 24)
    assert _bits(u64.member("top")) == (64, 3)

    zw = lay["struct bf_zero_width"]
    assert _bits(zw.member("b")) == (32, 4)  # after "int : 0"
    assert zw.member("c").offset == 5
    assert _bits(zw.member("d")) == (64, 2)  # after "long : 0"
    assert zw.size == 12  # unnamed fields do not raise the alignment

    en = lay["struct bf_enum"]
    assert _bits(en.member("wide")) == (8, 30)
    assert _bits(en.member("anon")) == (38, 3)
    assert _bits(en.member("flag")) == (41, 1)

    packed = lay["struct bf_packed"]
    assert (packed.size, packed.align) == (11, 1)
    assert _bits(packed.member("z")) == (28, 40)
    assert packed.member("w").offset == 9

    nested = lay["struct bf_nested"]
    assert _bits(nested.member("lo16")) == (32, 16)  # inside anonymous struct
    assert _bits(nested.member("msb")) == (63, 1)
    assert _bits(nested.member("named.s2")) == (67, 13)


def test_enum_sizes(layouts_of: Callable[[str], Layouts]) -> None:
    lay = layouts_of("types_bitfields")
    sizes = {
        "enum e_u8": 1,
        "enum e_s8": 1,
        "enum e_u16": 2,
        "enum e_s16": 2,
        "enum e_u32": 4,
        "enum e_s32": 4,
        "enum e_u64": 8,
        "enum e_s64": 8,
        "anon_enum_t": 4,
        "wide_small_t": 8,  # ENUM64 whose values all fit in 32 bits
    }
    assert {k: lay[k].size for k in sizes} == sizes
    holder = lay["struct enum_holder"]
    assert holder.size == 40
    offsets = [
        holder.member(n).offset for n in ("u8", "s8", "u16", "s16", "u32", "u64")
    ]
    assert offsets == [0, 1, 2, 4, 8, 16]


def test_anonymous_members_and_arrays(layouts_of: Callable[[str], Layouts]) -> None:
    lay = layouts_of("types_layout")

    cell = lay["struct cell"]
    assert cell.size == 24
    assert (cell.member("lo").offset, cell.member("hi").offset) == (8, 10)
    assert cell.member("uc").offset == 8
    assert cell.member("named.deep") == MemberLayout("named.deep", 20, 4, None, None)

    grid = lay["struct grid"]
    assert grid.size == 288
    assert grid.member("pts[0].as_int").offset == 84
    assert (grid.member("cube").offset, grid.member("cube").size) == (96, 96)
    assert grid.member("cells3d").offset == 192

    variant = lay["union variant"]
    assert (variant.size, variant.member("b").offset) == (16, 4)


def test_packed_and_aligned(layouts_of: Callable[[str], Layouts]) -> None:
    lay = layouts_of("types_layout")

    pk = lay["struct pk"]
    assert (pk.size, pk.align, pk.member("l").offset, pk.member("s").offset) == (
        15,
        1,
        5,
        13,
    )
    assert lay["struct al_member"].member("x").offset == 16
    assert lay["struct al_member"].size == 32
    assert lay["struct al_type"].size == 32
    outer = lay["struct al_outer"]
    assert (outer.member("t").offset, outer.member("l").offset, outer.size) == (
        32,
        64,
        96,
    )
    has_al = lay["struct pk_has_al"]
    offsets = [has_al.member(n).offset for n in ("m", "t", "d")]
    assert (offsets, has_al.size) == ([1, 33, 65], 66)
    assert lay["struct pk_al_member"].member("x").offset == 8
    assert lay["struct al_has_pk"].member("tail").offset == 16
    assert lay["struct al_has_pk"].size == 32
    assert lay["struct pk_and_al"].size == 12

    # aligned(64) on a variable shows up as padding in the section struct.
    assert lay["datasec .bss"].member("aligned_var_bss").offset == 448
    assert lay["datasec .data"].member("al_type_data").offset == 96


def test_flexible_and_zero_length_arrays(layouts_of: Callable[[str], Layouts]) -> None:
    lay = layouts_of("types_layout")
    fam = lay["struct fam"]
    assert (fam.size, fam.member("items")) == (
        8,
        MemberLayout("items", 8, 0, None, None),
    )
    zla = lay["struct zla"]
    assert [(m.name, m.offset, m.size) for m in zla.members] == [
        ("a", 0, 4),
        ("mid", 4, 0),
        ("b", 4, 4),
        ("tail", 8, 0),
    ]
    assert lay["struct fam_wrapper"].member("f").offset == 16


def test_names_and_collisions(layouts_of: Callable[[str], Layouts]) -> None:
    lay = layouts_of("types_names")

    kw = lay["struct keywords"]
    assert kw.member("_fields_").offset == 48
    assert kw.member("None").offset == 8
    assert (kw.member("mro").offset, kw.size) == (132, 136)

    # Same spelling, different namespaces or scopes.
    assert lay["struct dup"].size == 16
    assert lay["union dup___2"].size == 8  # block-scope union renamed by bpftool
    assert lay["dup"].size == 4  # typedef union dup_u dup
    assert lay["dup2"].size == 16  # typedef struct dup dup2
    assert lay["enum dup2"].size == 4
    collide = lay["struct collide"]
    assert [collide.member(n).offset for n in ("dupt", "e", "d2", "cu")] == [
        16,
        20,
        24,
        60,
    ]

    bss = lay["datasec .bss"]
    assert bss.member("lambda").offset == 256
    assert bss.member("dup_var").offset == 264


def test_typedefs_scalars_pointers_qualifiers(
    layouts_of: Callable[[str], Layouts],
) -> None:
    lay = layouts_of("types_names")

    for name in ("base_t", "base2_t", "base3_t", "cbase_t"):
        assert lay[name].size == 8
        assert lay[name].member("y").offset == 4
    assert lay["anon3_t"].member("l").offset == 8
    assert lay["struct chains"].member("a3").offset == 16

    scalars = lay["struct scalars"]
    assert (scalars.size, scalars.align) == (144, 16)
    assert [scalars.member(n).offset for n in ("b2", "f", "d", "u128", "raw")] == [
        1,
        56,
        64,
        96,
        128,
    ]

    ptrs = lay["struct pointers"]
    assert (ptrs.member("cb").offset, ptrs.member("cb").size) == (8, 8)
    assert ptrs.member("cbs").size == 16
    assert ptrs.size == 80

    qual = lay["struct qualified"]
    assert _bits(qual.member("vbits")) == (280, 5)
    assert _bits(qual.member("cbits")) == (288, 7)  # const bitfield, new int unit
    assert qual.size == 40


def test_tool_failure_is_reported(tmp_path: Path) -> None:
    _require_tools()
    bogus = tmp_path / "bogus.bpf.o"
    bogus.write_bytes(b"not an ELF file")
    with pytest.raises(OracleError):
        c_layouts(bogus, tmp_path / "work")
