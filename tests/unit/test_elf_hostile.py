"""A damaged or hostile ELF file is an ObjectError saying what is wrong, found before
anything is allocated: sizes, offsets, alignment and names are checked against the
file, global data against the kernel's limits, symbols and relocations against
their tables.  The objects are the minimal example, edited field by field."""

from __future__ import annotations

import resource
import struct
from collections.abc import Callable
from pathlib import Path

import pytest
from skelgen_runtime import BPFObject, ObjectError
from skelgen_runtime.obj.elf import MAX_SECTION_MAP_SIZE, read_object

from fuzz.model import (
    SH_ADDRALIGN,
    SH_FLAGS,
    SH_NAME,
    SH_OFFSET,
    SH_SIZE,
    SH_TYPE,
    SYM,
    Elf,
    strip_debug,
)

ROOT = Path(__file__).resolve().parents[2]
SHT_NOBITS = 8
SHF_COMPRESSED = 0x800
Edit = Callable[[Elf], None]


@pytest.fixture(scope="module")
def minimal(build_bpf: Callable[[str], Path]) -> Elf:
    return strip_debug(
        Elf.parse(build_bpf(str(ROOT / "examples/minimal/minimal.bpf.c")).read_bytes())
    )


def edited(elf: Elf, edit: Edit) -> bytes:
    copy = elf.copy()
    edit(copy)
    return copy.to_bytes()


def _post(section: bytes, field: int, value: int) -> Edit:
    return lambda e: e.post_shdr.__setitem__((e.find(section), field), value)


def _nobits(section: bytes, size: int) -> Edit:
    def edit(e: Elf) -> None:
        header = e.sections[e.find(section)].header
        header[SH_TYPE], header[SH_SIZE] = SHT_NOBITS, size

    return edit


def _symbol_value(name: bytes, value: int) -> Edit:
    def edit(e: Elf) -> None:
        symtab = e.find(b".symtab")
        strtab = e.sections[symtab].header[6]
        names = e.sections[strtab].data
        symbols = [list(s) for s in SYM.iter_unpack(e.sections[symtab].data)]
        for sym in symbols:
            if names[sym[0] : names.index(b"\0", sym[0])] == name:
                sym[4] = value
        e.set_data(symtab, b"".join(SYM.pack(*s) for s in symbols))

    return edit


def _symbol_name(raw: bytes) -> Edit:
    def edit(e: Elf) -> None:
        symtab = e.find(b".symtab")
        symbols = [list(s) for s in SYM.iter_unpack(e.sections[symtab].data)]
        symbols[-1][0] = e.add_string(e.sections[symtab].header[6], raw)
        e.set_data(symtab, b"".join(SYM.pack(*s) for s in symbols))

    return edit


def _relocation_symbol(index: int) -> Edit:
    def edit(e: Elf) -> None:
        rel = e.find(b".reltp/syscalls/sys_enter_getpid")
        offset, info = struct.unpack_from("<QQ", e.sections[rel].data)
        e.set_data(rel, struct.pack("<QQ", offset, index << 32 | info & 0xFFFFFFFF))

    return edit


def _ext_record_size(size: int) -> Edit:
    def edit(e: Elf) -> None:
        ext = e.find(b".BTF.ext")
        data = bytearray(e.sections[ext].data)
        hdr_len, line_off = (
            struct.unpack_from("<I", data, 4)[0],
            struct.unpack_from("<I", data, 16)[0],
        )
        struct.pack_into("<I", data, hdr_len + line_off, size)
        e.set_data(ext, bytes(data))

    return edit


def _ehdr(field: int, value: int) -> Edit:
    return lambda e: e.post_ehdr.__setitem__(field, value)


def _ident(at: int, value: int) -> Edit:
    def edit(e: Elf) -> None:
        ident = bytearray(e.ident)
        ident[at] = value
        e.ident = bytes(ident)

    return edit


CASES: dict[str, tuple[Edit, str]] = {
    "size-past-the-end": (_post(b".BTF", SH_SIZE, 1 << 40), "lie outside the file"),
    "offset-past-the-end": (
        _post(b".data", SH_OFFSET, 1 << 63),
        "lie outside the file",
    ),
    "huge-alignment": (
        _post(b".text", SH_ADDRALIGN, 1 << 62),
        "alignment 4611686018427387904",
    ),
    "odd-alignment": (_post(b".text", SH_ADDRALIGN, 24), "not a power of two"),
    "name-outside-the-table": (_post(b".data", SH_NAME, 1 << 20), "name lies outside"),
    "headers-of-another-size": (_ehdr(11, 40), "section headers are 40 bytes"),
    "section-table-past-the-end": (_ehdr(6, 1 << 40), "section table lies outside"),
    "elf32": (_ident(4, 1), "not a 64-bit ELF file"),
    "bss-over-the-kernel-limit": (
        _nobits(b".bss", MAX_SECTION_MAP_SIZE + 1),
        f"more than the kernel allows for a map value ({MAX_SECTION_MAP_SIZE})",
    ),
    "datasec-offset-beyond-u32": (
        _symbol_value(b"counter", 1 << 32),
        "variable 'counter' of '.bss': 4 bytes at offset 4294967296 lie outside",
    ),
    "relocation-of-a-missing-symbol": (
        _relocation_symbol(10_000),
        "names symbol 10000, which does not exist",
    ),
    "symbol-name-not-utf8": (_symbol_name(b"\xff\xfe"), "is not UTF-8"),
    "line-info-records-too-small": (
        _ext_record_size(8),
        "line_info records are 8 bytes, less than 16",
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_damage_is_an_object_error_saying_what(minimal: Elf, case: str) -> None:
    edit, message = CASES[case]
    data = edited(minimal, edit)
    with pytest.raises(
        ObjectError, match="^x.o: .*" + message.replace("(", r"\(").replace(")", r"\)")
    ) as info:
        read_object(data, "x", origin="x.o")
    assert "\n" not in str(info.value)


def _peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def test_a_large_bss_costs_nothing_until_used(minimal: Elf, tmp_path: Path) -> None:
    """1 GiB of .bss within the kernel's limit: open() reserves, touches nothing."""
    path = tmp_path / "big.bpf.o"
    path.write_bytes(edited(minimal, _nobits(b".bss", 1 << 30)))
    before = _peak_rss()
    with BPFObject.open(path) as obj:
        assert obj.spec.datasecs[".bss"].size == 1 << 30
        assert obj.datasec(".bss").size == 1 << 30
    assert _peak_rss() - before < 64 << 20


def test_sections_are_read_as_stored_never_decompressed(minimal: Elf) -> None:
    """SHF_COMPRESSED on sections the reader uses: their bytes as the file holds
    them, as libbpf reads them (pyelftools would inflate them: zlib errors, or a
    decompression bomb)."""
    copy = minimal.copy()
    for name in (b".BTF", b".data", b"license"):
        copy.sections[copy.find(name)].header[SH_FLAGS] |= SHF_COMPRESSED
    spec = read_object(copy.to_bytes(), "x")
    assert spec.license == "GPL"
    assert spec.datasecs[".data"].data[:8] == (1).to_bytes(8, "little")


def test_a_nobits_section_is_read_as_empty_whatever_its_size(minimal: Elf) -> None:
    copy = minimal.copy()
    header = copy.sections[copy.find(b"license")].header
    header[SH_TYPE], header[SH_SIZE] = SHT_NOBITS, 1 << 30  # the file has 4 KiB
    assert read_object(copy.to_bytes(), "x").license == ""
    header[SH_NAME] = copy.add_string(copy.shstrndx, b"version")
    header[SH_SIZE] = 4
    assert read_object(copy.to_bytes(), "x").kern_version == 0
