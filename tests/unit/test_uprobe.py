"""Uprobe targets without the kernel: section parsing, library search, and function
offsets checked against binutils (``objdump -F`` prints each function's file offset)
on binaries gcc builds here."""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile
from skelgen_runtime import AttachError
from skelgen_runtime.kernel.probes import kernel_function_names, legacy_event_name
from skelgen_runtime.link.binaries import (
    FunctionRef,
    UprobeTarget,
    find_binary,
    function_offset,
    library_candidates,
    parse_function,
    parse_ldconfig,
    parse_target,
)
from skelgen_runtime.sys.perf import parse_format_bit

pytestmark = pytest.mark.skipif(
    shutil.which("gcc") is None or shutil.which("objdump") is None,
    reason="needs gcc, objdump",
)

MAIN_C = r"""
int __attribute__((noipa)) first(int a) { return a + 1; }
int __attribute__((noipa)) second(int a) { return a * 3; }
int __attribute__((weak, noipa)) maybe(int a) { return a - 1; }
int main(int argc, char **argv) { return first(argc) + second(argc) + maybe(argc); }
"""
# Two local functions of one name in two files, and a weak one next to a local one.
DUP_A_C = r"""
static int __attribute__((noipa)) helper(int a) { return a + 10; }
static int __attribute__((noipa)) twin(int a) { return a + 20; }
int from_a(int a) { return helper(a) + twin(a); }
"""
DUP_B_C = r"""
static int __attribute__((noipa)) helper(int a) { return a + 30; }
int __attribute__((weak, noipa)) twin(int a) { return a + 40; }
int from_b(int a) { return helper(a) + twin(a); }
int from_a(int a);
int main(int argc, char **argv) { return from_a(argc) + from_b(argc); }
"""
LIB_C = r"""
int __attribute__((noipa)) skelgen_lib_fn(int a) { return a ^ 5; }
"""


def _gcc(out: Path, sources: dict[str, str], *flags: str) -> Path:
    paths = []
    for name, text in sources.items():
        path = out.parent / name
        path.write_text(text)
        paths.append(str(path))
    subprocess.run(["gcc", "-O1", "-g", *flags, "-o", str(out), *paths], check=True)
    return out


def objdump_offsets(binary: Path) -> dict[str, list[tuple[int, int]]]:
    """name → [(address, file offset)] for every function objdump disassembles."""
    text = subprocess.run(
        ["objdump", "-d", "-F", str(binary)], capture_output=True, text=True, check=True
    ).stdout
    out: dict[str, list[tuple[int, int]]] = {}
    for addr, name, offset in re.findall(
        r"^([0-9a-f]+) <([^>]+)> \(File Offset: 0x([0-9a-f]+)\):", text, re.M
    ):
        out.setdefault(name, []).append((int(addr, 16), int(offset, 16)))
    return out


def nm_address(binary: Path, name: str, kind: str) -> int:
    """Address of the symbol ``name`` whose nm type letter is ``kind``."""
    text = subprocess.run(
        ["nm", "--defined-only", str(binary)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for line in text.splitlines():
        addr, letter, sym = line.split()
        if sym == name and letter == kind:
            return int(addr, 16)
    raise KeyError(name)


@pytest.fixture(scope="module")
def binaries(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("uprobe")
    return {
        "pie": _gcc(out / "pie", {"main.c": MAIN_C}, "-pie", "-fPIE"),
        "nopie": _gcc(out / "nopie", {"main2.c": MAIN_C}, "-no-pie", "-fno-pie"),
        "stripped": _gcc(out / "stripped", {"main3.c": MAIN_C}, "-s", "-rdynamic"),
        "dups": _gcc(out / "dups", {"dup_a.c": DUP_A_C, "dup_b.c": DUP_B_C}),
        "lib": _gcc(out / "libskelgentest.so", {"lib.c": LIB_C}, "-shared", "-fPIC"),
    }


@pytest.mark.parametrize("kind", ["pie", "nopie", "lib"])
def test_function_offsets_match_objdump(binaries: dict[str, Path], kind: str) -> None:
    binary = binaries[kind]
    offsets = objdump_offsets(binary)
    names = (
        ["skelgen_lib_fn"] if kind == "lib" else ["first", "second", "maybe", "main"]
    )
    for name in names:
        [(_addr, offset)] = offsets[name]
        assert function_offset(str(binary), name) == offset


def test_non_pie_offsets_differ_from_addresses(binaries: dict[str, Path]) -> None:
    # Guards the test above: there an address would not pass for an offset.
    [(addr, offset)] = objdump_offsets(binaries["nopie"])["first"]
    assert addr != offset
    assert function_offset(str(binaries["nopie"]), "first") == offset


def test_stripped_binary_uses_dynsym(binaries: dict[str, Path]) -> None:
    binary = binaries["stripped"]
    pie_offsets = objdump_offsets(binaries["pie"])
    # Same source and flags bar -s/-rdynamic: objdump of a stripped file shows no names,
    # so check it finds the function and that the bytes there are the function's.
    offset = function_offset(str(binary), "second")
    [(_a, pie_offset)] = pie_offsets["second"]
    body = binaries["pie"].read_bytes()[pie_offset : pie_offset + 8]
    assert binary.read_bytes()[offset : offset + 8] == body


def test_two_strong_definitions_are_ambiguous(binaries: dict[str, Path]) -> None:
    with pytest.raises(AttachError, match="ambiguous") as info:
        function_offset(str(binaries["dups"]), "helper")
    assert "\n" not in str(info.value)


def test_a_strong_definition_wins_over_a_weak_one(binaries: dict[str, Path]) -> None:
    binary = binaries["dups"]
    local = nm_address(binary, "twin", "t")
    file_offset = dict(objdump_offsets(binary)["twin"])[local]
    assert function_offset(str(binary), "twin") == file_offset


def test_missing_function_and_non_elf(
    binaries: dict[str, Path], tmp_path: Path
) -> None:
    with pytest.raises(AttachError, match=r"no function 'nope' in .*pie") as info:
        function_offset(str(binaries["pie"]), "nope")
    assert info.value.errno == 2
    text = tmp_path / "text"
    text.write_text("not an ELF file\n")
    with pytest.raises(AttachError, match="not a usable ELF file"):
        function_offset(str(text), "main")
    with pytest.raises(AttachError, match="no such file"):
        find_binary(str(tmp_path / "missing"))


def test_a_symbol_table_offset_past_any_file_is_an_attach_error(
    binaries: dict[str, Path], tmp_path: Path
) -> None:
    """pyelftools raises ValueError for an offset no file can have."""
    data = bytearray(binaries["pie"].read_bytes())
    with binaries["pie"].open("rb") as f:
        elf = ELFFile(f)
        index = next(
            i for i, s in enumerate(elf.iter_sections()) if s.name == ".dynsym"
        )
        header = elf["e_shoff"] + index * elf["e_shentsize"]
    struct.pack_into("<Q", data, header + 24, 1 << 63)  # sh_offset
    broken = tmp_path / "broken"
    broken.write_bytes(data)
    with pytest.raises(AttachError, match="not a usable ELF file"):
        function_offset(str(broken), "main")


def test_libraries_are_found_like_the_dynamic_linker(
    binaries: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    lib = binaries["lib"]
    with pytest.raises(AttachError, match="not found in LD_LIBRARY_PATH"):
        find_binary(lib.name)
    monkeypatch.setenv("LD_LIBRARY_PATH", f"/nonexistent:{lib.parent}")
    assert find_binary(lib.name) == str(lib)
    assert library_candidates(lib.name)[:2] == [f"/nonexistent/{lib.name}", str(lib)]
    # libc through the ldconfig cache, whose 32-bit entry (if any) is skipped
    libc = find_binary("libc.so.6")
    assert os.path.isabs(libc) and Path(libc).read_bytes()[:4] == b"\x7fELF"
    assert function_offset(libc, "getppid") > 0


def test_programs_are_found_on_path(
    binaries: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", f"/nonexistent:{binaries['pie'].parent}")
    assert find_binary("nopie") == str(binaries["nopie"])
    with pytest.raises(AttachError, match=r"not found in \$PATH"):
        find_binary("skelgen-no-such-program")


LDCONFIG = """\
1234 libs found in cache `/etc/ld.so.cache'
\tlibz.so.1 (libc6,x86-64) => /lib/x86_64-linux-gnu/libz.so.1
\tlibc.so.6 (libc6,x86-64, OS ABI: Linux 3.2.0) => /lib/x86_64-linux-gnu/libc.so.6
\tlibc.so.6 (libc6) => /lib32/libc.so.6
Cache generated by: ldconfig (Ubuntu GLIBC 2.35) stable release version 2.35
"""


def test_parse_ldconfig() -> None:
    assert parse_ldconfig(LDCONFIG) == [
        ("libz.so.1", "libc6,x86-64", "/lib/x86_64-linux-gnu/libz.so.1"),
        (
            "libc.so.6",
            "libc6,x86-64, OS ABI: Linux 3.2.0",
            "/lib/x86_64-linux-gnu/libc.so.6",
        ),
        ("libc.so.6", "libc6", "/lib32/libc.so.6"),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("main", FunctionRef("main")),
        ("main+0x10", FunctionRef("main", 16)),
        ("main+16", FunctionRef("main", 16)),
        (
            "operator+",
            FunctionRef("operator+"),
        ),  # not a number after '+': part of the name
        ("a+b+4", FunctionRef("a+b", 4)),
    ],
)
def test_parse_function(text: str, expected: FunctionRef) -> None:
    assert parse_function(text) == expected


def test_parse_target() -> None:
    assert parse_target("libc.so.6:malloc") == UprobeTarget(
        "libc.so.6", FunctionRef("malloc")
    )
    assert parse_target("/usr/bin/bash:readline+0x4") == UprobeTarget(
        "/usr/bin/bash", FunctionRef("readline", 4)
    )
    for bad in ("libc.so.6", "libc.so.6:", ":malloc"):
        with pytest.raises(AttachError, match="BINARY:FUNCTION"):
            parse_target(bad)


def test_legacy_event_names_are_tracefs_safe() -> None:
    name = legacy_event_name("/usr/lib/libc.so.6", 0x1234, 42, 7)
    assert name == "skelgen_42_7__usr_lib_libc_so_6_0x1234"
    long_name = legacy_event_name("x" * 200, 0, 1, 0)
    assert len(long_name) == 63 and long_name.isidentifier()


def test_parse_format_bit() -> None:
    assert parse_format_bit("config:0\n") == 0
    assert parse_format_bit("config:32-63") == 32
    with pytest.raises(ValueError, match="unexpected PMU format"):
        parse_format_bit("config1:0-63")


def test_kernel_function_listings() -> None:
    tracefs = "do_sys_openat2\nvfs_read\next4_file_open [ext4]\n"
    assert kernel_function_names(tracefs, kallsyms=False) == [
        "do_sys_openat2",
        "vfs_read",
        "ext4_file_open",
    ]
    kallsyms = "ffffffff81000000 T _stext\nffffffff82000000 D jiffies\nffffffffc0000000 t fn [mod]\n"
    assert kernel_function_names(kallsyms, kallsyms=True) == ["_stext", "fn"]
