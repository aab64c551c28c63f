"""Symbols and trace_pipe lines without the kernel: kallsyms text, memory maps and
trace lines parsed from bytes; ELF symbol tables checked against binutils' ``nm`` on
binaries gcc builds here; the trace pipe reader on a FIFO."""

from __future__ import annotations

import ctypes
import io
import os
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest
from skelgen_runtime import (
    Symbol,
    SymbolError,
    TraceEvent,
    TracePipe,
    TracePipeError,
    UserSymbols,
)
from skelgen_runtime.obj.elf import CORRUPT_ELF_ERRORS
from skelgen_runtime.symbols.elf_symbols import read_elf_symbols
from skelgen_runtime.symbols.kallsyms import parse_kallsyms
from skelgen_runtime.symbols.proc_maps import Mapping, parse_maps
from skelgen_runtime.symbols.table import SymbolTable, TableEntry
from skelgen_runtime.symbols.trace_pipe import parse_trace_line

KALLSYMS = b"""\
0000000000000000 A fixed_percpu_data
ffffffff81000000 T _stext
ffffffff81000000 T _text
ffffffff81000100 t helper
ffffffff81000200 T do_work
ffffffffc0a00000 t mod_init\t[mymod]
ffffffffc0a00080 T mod_exit\t[mymod]
"""


def test_kallsyms_addresses_fall_in_the_symbol_before_them() -> None:
    table = parse_kallsyms(KALLSYMS)
    assert table.lookup(0xFFFFFFFF81000000) == Symbol("_stext", 0)  # first listed
    assert table.lookup(0xFFFFFFFF810001FF) == Symbol("helper", 0xFF)
    assert table.lookup(0xFFFFFFFFC0A00010) == Symbol("mod_init", 0x10, "mymod")
    assert table.lookup(0xFFFFFFFF80FFFFFF) is None
    assert table.lookup(0x10) is None  # absolute symbols are not code
    assert table.address("do_work") == 0xFFFFFFFF81000200
    assert table.address("missing") is None
    assert len(table) == 5


def test_kallsyms_hidden_by_kptr_restrict_is_an_error() -> None:
    hidden = b"0000000000000000 T _stext\n0000000000000000 t helper\n"
    with pytest.raises(SymbolError, match="kptr_restrict"):
        parse_kallsyms(hidden)


def test_symbols_format_as_bcc_prints_them() -> None:
    assert Symbol("do_work", 0x1A).format() == "do_work"
    assert Symbol("do_work", 0x1A).format(offset=True) == "do_work+0x1a"
    assert Symbol("do_work", 0).format(module=True) == "do_work [kernel]"
    libc = Symbol("getpid", 3, "/usr/lib/x86_64-linux-gnu/libc.so.6")
    assert libc.format(offset=True, module=True) == "getpid+0x3 [libc.so.6]"


def test_a_sized_symbol_ends_where_its_size_says() -> None:
    table = SymbolTable(
        [
            TableEntry(0x1000, 0x40, "outer"),
            TableEntry(0x1010, 0x8, "nested"),  # inside outer, ends before it
            TableEntry(0x1100, 0, "label"),  # no size: up to the next symbol
            TableEntry(0x1200, 0x10, "last"),
        ]
    )
    assert table.lookup(0x1014) == Symbol("nested", 4)
    assert table.lookup(0x1020) == Symbol("outer", 0x20)
    assert table.lookup(0x1040) is None  # between outer's end and label
    assert table.lookup(0x11FF) == Symbol("label", 0xFF)
    assert table.lookup(0x1210) is None


MAPS = """\
55d0c2a00000-55d0c2a01000 r--p 00000000 08:01 1234 /usr/bin/my app
55d0c2a01000-55d0c2a02000 r-xp 00001000 08:01 1234 /usr/bin/my app
7f0000000000-7f0000021000 rw-p 00000000 00:00 0
7f1000000000-7f1000002000 r-xp 00002000 08:01 99 /tmp/lib.so (deleted)
7ffd1c3f0000-7ffd1c3f2000 r-xp 00000000 00:00 0                          [vdso]
garbage
"""


def test_memory_maps_keep_paths_with_spaces_and_deleted_files() -> None:
    maps = parse_maps(MAPS)
    assert len(maps) == 5
    assert maps[1] == Mapping(
        0x55D0C2A01000, 0x55D0C2A02000, "r-xp", 0x1000, 1234, "/usr/bin/my app"
    )
    assert maps[1].is_file and not maps[2].is_file and not maps[4].is_file
    assert (maps[3].path, maps[3].deleted) == ("/tmp/lib.so", True)
    assert maps[4].path == "[vdso]"


PROGRAM = r"""
static int __attribute__((noipa)) local_one(int a) { return a + 1; }
int __attribute__((noipa)) global_one(int a) { return local_one(a) * 3; }
int __attribute__((weak, noipa)) weak_one(int a) { return a - 1; }
int main(int argc, char **argv) { return global_one(argc) + weak_one(argc); }
"""


def _nm_functions(path: Path) -> dict[int, set[str]]:
    """Address → names of the defined functions, as binutils lists them."""
    out = subprocess.run(
        ["nm", "--defined-only", "-S", str(path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found: dict[int, set[str]] = {}
    for line in out.splitlines():
        fields = line.split()
        if len(fields) == 4 and fields[2] in "TtWi":
            found.setdefault(int(fields[0], 16), set()).add(fields[3].split("@")[0])
    return found


@pytest.mark.skipif(
    shutil.which("gcc") is None or shutil.which("nm") is None, reason="needs gcc, nm"
)
@pytest.mark.parametrize("flags", [["-pie", "-fpie"], ["-no-pie", "-fno-pie"]])
def test_every_function_of_a_binary_is_found_as_nm_lists_it(
    tmp_path: Path, flags: list[str]
) -> None:
    source = tmp_path / "prog.c"
    source.write_text(PROGRAM)
    binary = tmp_path / "prog"
    subprocess.run(["gcc", "-O2", *flags, "-o", str(binary), str(source)], check=True)
    symbols = read_elf_symbols(io.BytesIO(binary.read_bytes()), debug_root=None)
    expected = _nm_functions(binary)
    assert {"main", "global_one", "local_one", "weak_one"} <= set().union(
        *expected.values()
    )
    for address, names in expected.items():
        found = symbols.table.lookup(address)
        assert found is not None and found.offset == 0, (hex(address), names)
        assert found.name in names
    # File offsets (what /proc/PID/maps gives) back to addresses: the PT_LOAD rule.
    text = [s for s in symbols.segments if s.vaddr <= min(expected) < s.vaddr + s.size]
    assert len(text) == 1
    offset = min(expected) - text[0].vaddr + text[0].offset
    assert symbols.to_vaddr(offset) == min(expected)
    assert symbols.to_vaddr(1 << 40) is None


def test_a_corrupt_elf_file_is_refused() -> None:
    with pytest.raises(CORRUPT_ELF_ERRORS):
        read_elf_symbols(io.BytesIO(b"\x7fELF" + b"\0" * 10))


@pytest.mark.parametrize(
    ("line", "event"),
    [
        (
            "           <...>-1234    [001] d..31  1234.567890: bpf_trace_printk: hi",
            TraceEvent("<...>", 1234, 1, "d..31", 1234.56789, "bpf_trace_printk", "hi"),
        ),
        (  # a task name with a hyphen and a space, the record-tgid column
            " kworker/u8:2-my task-77 (   70) [000] .N... 5.000001: bpf_trace_printk: a: b",
            TraceEvent(
                "kworker/u8:2-my task",
                77,
                0,
                ".N...",
                5.000001,
                "bpf_trace_printk",
                "a: b",
            ),
        ),
        (  # irq-info off: no flags column
            "python3-9 [003] 17.5: bpf_trace_printk: ",
            TraceEvent("python3", 9, 3, "", 17.5, "bpf_trace_printk", ""),
        ),
    ],
)
def test_trace_lines_are_parsed(line: str, event: TraceEvent) -> None:
    assert parse_trace_line(line) == event


def test_lines_that_are_not_events_are_not_parsed() -> None:
    assert parse_trace_line("CPU:1 [LOST 12 EVENTS]") is None
    assert parse_trace_line("") is None


def test_the_trace_pipe_reader_joins_partial_lines_and_stops_at_its_timeout(
    tmp_path: Path,
) -> None:
    fifo = tmp_path / "trace_pipe"
    os.mkfifo(fifo)
    with TracePipe(str(fifo), timeout=0.3) as pipe:
        writer = os.open(fifo, os.O_WRONLY)
        try:
            os.write(writer, b"not an event\n   cat-5 [000] d..1 1.5: bpf_trace")
            later = threading.Timer(0.1, os.write, (writer, b"_printk: x\n"))
            later.start()
            events = list(pipe)  # waits for the rest of the line, then 0.3 s
            later.join()
            assert events == [
                TraceEvent("cat", 5, 0, "d..1", 1.5, "bpf_trace_printk", "x")
            ]
            os.write(writer, b"raw\n")
            assert pipe.read_line(timeout=0.5) == "raw"
            assert pipe.read_line(timeout=0.05) is None
        finally:
            os.close(writer)
        assert pipe.read_line() is None  # the writer has gone: no wait forever
    assert pipe.closed
    with pytest.raises(TracePipeError, match="closed"):
        pipe.read_line(timeout=0)


def test_a_missing_trace_pipe_is_a_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(TracePipeError) as info:
        TracePipe(str(tmp_path / "tracing" / "trace_pipe"))
    assert "No such file" in str(info.value) and "\n" not in str(info.value)


@pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc")
def test_a_library_loaded_later_is_found_in_a_live_process(tmp_path: Path) -> None:
    """This process's own map: a shared library dlopen()ed after UserSymbols read
    the map is found once the map is read again; its symbols by the PIC rule."""
    source = tmp_path / "lib.c"
    source.write_text("int skelgen_lib_fn(int x) { return x + 1; }\n")
    library = tmp_path / "libskelgen_test.so"
    subprocess.run(
        ["gcc", "-O2", "-shared", "-fPIC", "-o", str(library), str(source)], check=True
    )
    symbols = UserSymbols(os.getpid())
    loaded = ctypes.CDLL(str(library))
    address = ctypes.cast(loaded.skelgen_lib_fn, ctypes.c_void_p).value
    assert address is not None
    time.sleep(0.5)  # the map is read again at most every half second
    assert symbols.name(address + 2, offset=True, module=True) == (
        "skelgen_lib_fn+0x2 [libskelgen_test.so]"
    )
    assert symbols.name(8, module=True) == "[unknown]"  # mapped nowhere
    with pytest.raises(SymbolError, match="does not exist"):
        UserSymbols(2**22 + 1)  # above the largest pid the kernel allows
