"""USDT probes without the kernel: notes, argument locations and file offsets.

Notes are checked against ``readelf -n`` and offsets against the bytes of the file
(a probe site is a ``nop``, a semaphore lives in ``.probes``), on a target gcc builds
here from ``tests/kernel/usdt_target.c`` and on the probes of binaries the system
ships.  Hand-made note bytes cover what no compiler writes.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile
from skelgen_runtime import AttachError
from skelgen_runtime.link.usdt import maps_path
from skelgen_runtime.usdt.args import PT_REGS_OFFSETS, Arg, ArgKind, parse_args
from skelgen_runtime.usdt.notes import Note, parse_description, parse_notes
from skelgen_runtime.usdt.sites import (
    Segment,
    UsdtBinary,
    absolute_address,
    mapped_segments,
    read_binary,
)

TARGET_SOURCE = Path(__file__).parents[1] / "kernel" / "usdt_target.c"
SYSTEM_BINARIES = (
    "/usr/bin/python3",
    "/usr/lib/x86_64-linux-gnu/libstdc++.so.6",
    "/lib/x86_64-linux-gnu/libc.so.6",
)
U64 = 1 << 64

needs_toolchain = pytest.mark.skipif(
    shutil.which("gcc") is None
    or shutil.which("readelf") is None
    or not any(
        Path(d, "sys/sdt.h").exists()
        for d in ("/usr/include", "/usr/include/x86_64-linux-gnu")
    ),
    reason="needs gcc, readelf and <sys/sdt.h> (systemtap-sdt-dev)",
)


# -- hand-made notes -------------------------------------------------------------------------


def note_bytes(
    desc: bytes, owner: bytes = b"stapsdt\0", note_type: int = 3, align: int = 4
) -> bytes:
    def padded(raw: bytes) -> bytes:
        return raw + bytes(-len(raw) % align)

    header = b"".join(
        n.to_bytes(4, "little") for n in (len(owner), len(desc), note_type)
    )
    return header + padded(owner) + padded(desc)


def description(
    location: int, base: int, semaphore: int, provider: str, name: str, args: str
) -> bytes:
    addresses = b"".join(a.to_bytes(8, "little") for a in (location, base, semaphore))
    return addresses + b"\0".join(s.encode() for s in (provider, name, args)) + b"\0"


def test_notes_in_order_and_foreign_notes_skipped() -> None:
    data = (
        note_bytes(description(0x1000, 0x2000, 0, "prov", "one", "-4@%eax"))
        + note_bytes(b"\x01\x02\x03", owner=b"GNU\0", note_type=3)
        + note_bytes(description(0x1010, 0x2000, 0x4000, "prov", "two", ""))
        + note_bytes(description(0x1020, 0, 0, "prov", "odd", "x"), note_type=4)
    )
    assert parse_notes(data) == [
        Note("prov", "one", "-4@%eax", 0x1000, 0x2000, 0),
        Note("prov", "two", "", 0x1010, 0x2000, 0x4000),
    ]


def test_notes_aligned_to_eight() -> None:
    # An odd-length description: the next note starts at the next multiple of 8.
    first = description(1, 2, 3, "p", "a", "1@$1")
    second = description(4, 5, 6, "p", "bb", "")
    assert len(first) % 8 and len(second) % 8
    data = note_bytes(first, align=8) + note_bytes(second, align=8)
    assert [n.name for n in parse_notes(data, alignment=8)] == ["a", "bb"]


def test_arguments_starting_with_a_colon_are_none() -> None:
    # libbpf's rule for a description whose argument string begins with ':'.
    note = parse_description(description(1, 2, 0, "p", "n", ":junk"))
    assert note.args == ""


@pytest.mark.parametrize(
    "data, message",
    [
        (b"\x08\0\0\0\x20\0\0", "truncated header"),
        (note_bytes(description(1, 2, 3, "p", "n", "a"))[:-8], "runs past"),
        (note_bytes(bytes(26)), "too short"),
        (note_bytes(bytes(24) + b"p\0n\0"), "must each end with a NUL"),
        (note_bytes(bytes(24) + b"p\0\0\0"), "has no name"),
    ],
)
def test_malformed_notes_are_one_line_errors(data: bytes, message: str) -> None:
    with pytest.raises(AttachError, match=message) as info:
        parse_notes(data)
    assert "\n" not in str(info.value)


# -- argument locations ------------------------------------------------------------------------


EXACT_ARGS = (
    "-8@%rax -4@%ebx 2@%cx -1@%dl 8@%r12 -4@%r13d -2@%r14w 1@%r15b "
    "-4@$-5 8@$77 -4@8(%rsi) 8@-8(%rdi)"
)
REG, CONST, DEREF = ArgKind.REG, ArgKind.CONST, ArgKind.REG_DEREF


def test_every_operand_form_libbpf_reads() -> None:
    assert parse_args(EXACT_ARGS) == [
        Arg(8, True, REG, 0, 80),
        Arg(4, True, REG, 0, 40),
        Arg(2, False, REG, 0, 88),
        Arg(1, True, REG, 0, 96),
        Arg(8, False, REG, 0, 24),
        Arg(4, True, REG, 0, 16),
        Arg(2, True, REG, 0, 8),
        Arg(1, False, REG, 0, 0),
        Arg(4, True, CONST, U64 - 5),
        Arg(8, False, CONST, 77),
        Arg(4, True, DEREF, 8, 104),
        Arg(8, False, DEREF, U64 - 8, 112),
    ]
    assert [a.bitshift for a in parse_args(EXACT_ARGS)[:4]] == [0, 32, 48, 56]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("", []),
        ("  ", []),
        ("8@(%rsp)", [Arg(8, False, DEREF, 0, 152)]),
        ("-2@(%rcx)", [Arg(2, True, DEREF, 0, 88)]),
        ("8@%rip -4@%eip", [Arg(8, False, REG, 0, 128), Arg(4, True, REG, 0, 128)]),
        (
            "1@%sil 1@%dil 1@%bpl 1@%spl",
            [Arg(1, False, REG, 0, o) for o in (104, 112, 32, 152)],
        ),
        (" 8 @ -16 ( %rbp ) ", [Arg(8, False, DEREF, U64 - 16, 32)]),
        ("8@$18446744073709551615", [Arg(8, False, CONST, U64 - 1)]),
        ("8@-96(%rbp,%rax,8)", [Arg(8, False, ArgKind.SIB, U64 - 96, 32, 80, 3)]),
        ("-1@(%rdx,%rcx)", [Arg(1, True, ArgKind.SIB, 0, 96, 88, 0)]),
    ],
)
def test_operands(text: str, expected: list[Arg]) -> None:
    assert parse_args(text) == expected


@pytest.mark.parametrize(
    "text, message",
    [
        (
            "8@skelgen_memory(%rip)",
            r"#0 '8@skelgen_memory\(%rip\)': unrecognised operand",
        ),
        ("8@%rax 4@%ah", "#1 '4@%ah': unsupported register %ah"),
        ("3@%eax", "size 3 is not 1, 2, 4 or 8"),
        ("8f@%xmm0", "unrecognised operand"),
        ("8@%xmm1", "unsupported register %xmm1"),
        ("8@-8(%rsi,%rax,3)", "scale 3 is not 1, 2, 4 or 8"),
        ("8@$18446744073709551616", "does not fit in 64 bits"),
        ("8@%rax,", "unrecognised operand"),
    ],
)
def test_unreadable_operands_are_refused(text: str, message: str) -> None:
    with pytest.raises(AttachError, match=message) as info:
        parse_args(text)
    assert "\n" not in str(info.value)


# The kernel calls the registers by their 16-bit names in struct pt_regs.
_KERNEL_NAMES = {"rip": "ip", "rsp": "sp", "rbp": "bp", "rax": "ax", "rbx": "bx"}
_KERNEL_NAMES |= {"rcx": "cx", "rdx": "dx", "rsi": "si", "rdi": "di"}


def test_register_offsets_match_the_kernels_pt_regs() -> None:
    vmlinux = Path("/sys/kernel/btf/vmlinux")
    if shutil.which("bpftool") is None or not vmlinux.exists():
        pytest.skip("needs bpftool and /sys/kernel/btf/vmlinux")
    dump = subprocess.run(
        ["bpftool", "btf", "dump", "file", str(vmlinux)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    body = re.search(r"STRUCT 'pt_regs' size=\d+ vlen=\d+\n((?:\t.*\n)+)", dump)
    assert body is not None
    offsets = {
        name: int(bits) // 8
        for name, bits in re.findall(r"'(\w+)' type_id=\d+ bits_offset=(\d+)", body[1])
    }
    for name in ("rip", "rsp", "rbp", "rax", "rbx", "rcx", "rdx", "rsi", "rdi"):
        assert PT_REGS_OFFSETS[name] == offsets[_KERNEL_NAMES[name]], name
    for number in range(8, 16):
        assert PT_REGS_OFFSETS[f"r{number}"] == offsets[f"r{number}"]


# -- binaries: notes against readelf, offsets against the file's bytes ----------------------


def readelf_notes(binary: Path) -> list[Note]:
    text = subprocess.run(
        ["readelf", "-n", "--wide", str(binary)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    pattern = (
        r"Provider: (\S*)\n\s*Name: (\S+)\n\s*Location: 0x([0-9a-f]+), "
        r"Base: 0x([0-9a-f]+), Semaphore: 0x([0-9a-f]+)\n\s*Arguments: ?([^\n]*)"
    )
    return [
        Note(p, n, args, int(loc, 16), int(base, 16), int(sem, 16))
        for p, n, loc, base, sem, args in re.findall(pattern, text)
    ]


def section(binary: Path, name: str) -> tuple[int, int]:
    """``(sh_addr, sh_offset)`` of section ``name``."""
    with binary.open("rb") as f:
        found = ELFFile(f).get_section_by_name(name)
        assert found is not None
        return found["sh_addr"], found["sh_offset"]


def load_binary(binary: Path) -> UsdtBinary:
    with binary.open("rb") as f:
        return read_binary(f, str(binary))


@pytest.fixture(scope="module")
def targets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("usdt")
    built = {}
    for kind, flags in (("pie", ["-pie", "-fPIE"]), ("nopie", ["-no-pie", "-fno-pie"])):
        path = out / f"usdt_target_{kind}"
        subprocess.run(
            ["gcc", "-g", "-O2", *flags, "-o", str(path), str(TARGET_SOURCE)],
            check=True,
        )
        built[kind] = path
    return built


def check_sites(binary: Path) -> int:
    """Every probe of ``binary`` (its notes equal to readelf's) resolved: the probe
    offset holds a nop, the semaphore offset lies in .probes.  Returns the count."""
    usdt = load_binary(binary)
    assert list(usdt.notes) == readelf_notes(binary)
    data = binary.read_bytes()
    count = 0
    for note in usdt.notes:
        for site in usdt.sites(note.provider, note.name):
            if site.note != note:
                continue
            assert data[site.offset] == 0x90, (note, hex(site.offset))  # nop
            if note.semaphore:
                probes_addr, probes_offset = section(binary, ".probes")
                assert (
                    site.semaphore_offset
                    == note.semaphore - probes_addr + probes_offset
                )
            else:
                assert site.semaphore_offset == 0
            count += 1
    return count


@needs_toolchain
@pytest.mark.parametrize("kind", ["pie", "nopie"])
def test_target_notes_and_offsets(targets: dict[str, Path], kind: str) -> None:
    binary = targets[kind]
    usdt = load_binary(binary)
    assert usdt.shared == (kind == "pie")
    assert check_sites(binary) == 8
    [exact] = usdt.sites("skelgen", "exact")
    assert exact.note.args == EXACT_ARGS
    assert exact.note.semaphore and exact.semaphore_offset
    multi = usdt.sites("skelgen", "multi")
    assert [s.note.args for s in multi] == ["-4@%eax", "-4@%eax", "-4@$3"]
    assert len({s.offset for s in multi}) == 3
    if kind == "nopie":  # addresses are absolute, and differ from file offsets
        assert exact.address == exact.note.location != exact.offset


@pytest.mark.parametrize("path", SYSTEM_BINARIES)
def test_system_binaries(path: str) -> None:
    binary = Path(path).resolve()
    if shutil.which("readelf") is None or not binary.exists():
        pytest.skip(f"needs readelf and {path}")
    if not readelf_notes(binary):
        pytest.skip(f"{path} has no USDT probes")
    assert check_sites(binary) > 0


def test_missing_probe_and_missing_notes(tmp_path: Path) -> None:
    python = Path("/usr/bin/python3").resolve()
    if not python.exists():
        pytest.skip("no /usr/bin/python3")
    usdt = load_binary(python)
    if usdt.notes:
        with pytest.raises(AttachError, match="no USDT probe python:nope in"):
            usdt.sites("python", "nope")
    plain = tmp_path / "plain"
    plain.write_bytes(Path("/bin/true").read_bytes())
    if not readelf_notes(plain):
        with pytest.raises(AttachError, match="no USDT probes"):
            load_binary(plain)


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "not a usable ELF file"),
        (b"#!/bin/sh\necho hi\n", "not a usable ELF file"),
        (b"\x7fELF\x01\x01\x01" + bytes(60), "only 64-bit little-endian"),
    ],
)
def test_non_elf_targets(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad"
    path.write_bytes(content)
    with pytest.raises(AttachError, match=message) as info:
        load_binary(path)
    assert "\n" not in str(info.value)


# -- address arithmetic ---------------------------------------------------------------------------

SEGMENTS = [
    Segment(0x400000, 0x401000, 0, False),
    Segment(0x401000, 0x402000, 0x1000, True),
    Segment(0x403000, 0x404100, 0x2000, False),
]


def usdt_binary(note: Note, base: int = 0x402500) -> UsdtBinary:
    return UsdtBinary("/bin/x", False, [note], SEGMENTS, base)


def test_prelink_shift_applies_to_probe_and_semaphore() -> None:
    # .stapsdt.base moved by 0x100 since the note was written.
    note = Note("p", "n", "", 0x401010, 0x402400, 0x403020)
    [site] = usdt_binary(note).sites("p", "n")
    assert (site.address, site.offset, site.semaphore_offset) == (
        0x401110,
        0x1110,
        0x2120,
    )
    # No shift when either side does not record a base.
    [site] = usdt_binary(note, base=0).sites("p", "n")
    assert (site.offset, site.semaphore_offset) == (0x1010, 0x2020)


@pytest.mark.parametrize(
    "note, message",
    [
        (
            Note("p", "n", "", 0x405000, 0, 0),
            "no loaded segment holds its probe address",
        ),
        (
            Note("p", "n", "", 0x400010, 0, 0),
            "probe address 0x400010 is not executable",
        ),
        (
            Note("p", "n", "", 0x401010, 0, 0x401020),
            "semaphore address 0x401020 is executable",
        ),
        (
            Note("p", "n", "", 0x401010, 0, 0x402800),
            "no loaded segment holds its semaphore",
        ),
    ],
)
def test_misplaced_sites(note: Note, message: str) -> None:
    with pytest.raises(AttachError, match=message):
        usdt_binary(note, base=0).sites("p", "n")


MAPS = """\
5581d2a3c000-5581d2a3d000 r--p 00000000 fe:01 1234                       /tmp/t/usdt_target
5581d2a3d000-5581d2a3e000 r-xp 00001000 fe:01 1234                       /tmp/t/usdt_target
5581d2a3e000-5581d2a3f000 r--p 00002000 fe:01 1234                       /tmp/t/usdt_target
7f10aa000000-7f10aa028000 r-xp 00028000 fe:01 99                         /tmp/t/usdt_target_other
7f10aa200000-7f10aa201000 rw-p 00000000 00:00 0
7ffc1a000000-7ffc1a021000 rw-p 00000000 00:00 0                          [stack]
"""


def test_absolute_addresses_from_proc_maps() -> None:
    segments = mapped_segments(MAPS, "/tmp/t/usdt_target")
    assert segments == [Segment(0x5581D2A3D000, 0x5581D2A3E000, 0x1000, True)]
    assert absolute_address(segments, 0x1271) == 0x5581D2A3D271
    assert absolute_address(segments, 0x2000) is None
    assert mapped_segments(MAPS, "/tmp/t/nothing") == []


def test_paths_as_proc_maps_names_them(tmp_path: Path) -> None:
    # A binary reached through a process's root (a container's) is named from there.
    assert maps_path(77, "/proc/77/root/usr/bin/app") == "/usr/bin/app"
    link = tmp_path / "link"
    link.symlink_to("/bin/true")
    assert maps_path(77, str(link)) == os.path.realpath("/bin/true")


@needs_toolchain
def test_corrupt_program_headers(targets: dict[str, Path], tmp_path: Path) -> None:
    # An ELF header whose program header table lies beyond any file offset.
    data = bytearray(targets["pie"].read_bytes())
    data[32:40] = (1 << 63).to_bytes(8, "little")  # e_phoff
    path = tmp_path / "corrupt"
    path.write_bytes(bytes(data))
    with pytest.raises(AttachError, match="not a usable ELF file") as info:
        load_binary(path)
    assert "\n" not in str(info.value)
