"""The skelgen command: good output, and one clear line for every kind of bad input."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import import_file
from skelgen_runtime import BPFError, BPFObject, ObjectError

from fuzz.model import SYM, Elf


def skelgen(
    *args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "skelgen", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        check=False,
    )


def assert_one_line_error(
    proc: subprocess.CompletedProcess[str], *needles: str
) -> None:
    assert proc.returncode != 0
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("skelgen: ")
    assert "Traceback" not in proc.stderr
    for needle in needles:
        assert needle in lines[0]


@pytest.fixture
def globals_obj(build_bpf: Callable[[str], Path]) -> Path:
    return build_bpf("globals")


def test_same_input_gives_byte_identical_output(
    globals_obj: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "elsewhere" / globals_obj.name
    copy.parent.mkdir()
    shutil.copy(globals_obj, copy)
    first = skelgen(globals_obj, "-o", tmp_path / "a.py")
    second = skelgen(copy, "-o", tmp_path / "b.py")
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    assert (tmp_path / "a.py").read_bytes() == (tmp_path / "b.py").read_bytes()
    assert skelgen(globals_obj).stdout == (tmp_path / "a.py").read_text()


def test_header_names_source_hash_version_and_licence(
    globals_obj: Path, tmp_path: Path
) -> None:
    import hashlib

    import skelgen

    out = tmp_path / "globals_skel.py"
    assert skelgen_ok(globals_obj, out)
    header = out.read_text().splitlines()[:5]
    assert "globals.bpf.o" in header[0] and skelgen.__version__ in header[0]
    assert "Do not edit" in header[0]
    assert hashlib.sha256(globals_obj.read_bytes()).hexdigest() in header[1]
    assert header[2].startswith("# SPDX-License-Identifier:")
    assert "GPL" in header[3]


def skelgen_ok(obj: Path, out: Path, *extra: str) -> bool:
    proc = skelgen(obj, "-o", out, *extra)
    assert proc.returncode == 0, proc.stderr
    return out.is_file()


def test_embedded_object_round_trips(globals_obj: Path, tmp_path: Path) -> None:
    out = tmp_path / "embedded_skel.py"
    assert skelgen_ok(globals_obj, out, "--name", "embedded")
    embedded_skel = import_file(tmp_path / "embedded_skel.py", "embedded_skel")
    elf = embedded_skel.Embedded.elf_bytes()
    assert len(elf) < globals_obj.stat().st_size  # DWARF dropped
    original = BPFObject.open(globals_obj).spec
    embedded = BPFObject.from_bytes(elf, "embedded").spec
    assert list(embedded.programs) == list(original.programs)
    assert [p.function.insns for p in embedded.programs.values()] == [
        p.function.insns for p in original.programs.values()
    ]
    assert embedded_skel.Embedded._object_name_ == "embedded"


def test_no_embed_takes_the_object_path_at_open(
    globals_obj: Path, build_bpf: Callable[[str], Path], tmp_path: Path
) -> None:
    out = tmp_path / "plain_skel.py"
    assert skelgen_ok(globals_obj, out, "--no-embed")
    text = out.read_text()
    assert "_object_data_" not in text and "_object_path_" not in text
    assert str(globals_obj.parent) not in text  # no build path baked in
    skeleton = import_file(out, "plain_skel").GlobalsBpf
    with pytest.raises(BPFError) as error:
        skeleton.open()
    assert str(error.value) == (
        "GlobalsBpf was generated with --no-embed and no --object-path:"
        " pass open(object_path=...)"
    )
    with skeleton.open(object_path=globals_obj) as skel:  # parsed, not loaded
        assert list(skel.obj.programs) == list(BPFObject.open(globals_obj).programs)
    assert skeleton.elf_bytes(str(globals_obj)) == globals_obj.read_bytes()
    # the object the module was generated from, and no other
    other = build_bpf("maps_kinds")
    with pytest.raises(ObjectError, match="not the object GlobalsBpf was generated"):
        skeleton.open(object_path=other)
    with pytest.raises(ObjectError, match=r"nope\.o: No such file"):
        skeleton.open(object_path=tmp_path / "nope.o")


def test_object_path_is_the_default_relative_to_the_module(
    globals_obj: Path, tmp_path: Path
) -> None:
    package = tmp_path / "package"
    package.mkdir()
    shutil.copy(globals_obj, package / "prog.bpf.o")
    out = package / "shipped_skel.py"
    assert skelgen_ok(globals_obj, out, "--object-path", "prog.bpf.o")  # no-embed
    assert "_object_data_" not in out.read_text()
    skeleton = import_file(out, "shipped_skel").GlobalsBpf
    assert skeleton.elf_bytes() == globals_obj.read_bytes()  # not from the cwd
    (package / "prog.bpf.o").unlink()
    with pytest.raises(ObjectError, match=r"package/prog\.bpf\.o: No such file"):
        skeleton.open()
    with skeleton.open(object_path=globals_obj):  # open() still decides
        pass


def test_an_embedding_module_refuses_an_object_path(
    globals_obj: Path, tmp_path: Path
) -> None:
    out = tmp_path / "embedding_skel.py"
    assert skelgen_ok(globals_obj, out)
    skeleton = import_file(out, "embedding_skel").GlobalsBpf
    with pytest.raises(BPFError, match="embeds its object"):
        skeleton.open(object_path=globals_obj)


def test_an_output_that_is_not_a_regular_file_is_written_not_replaced(
    globals_obj: Path, tmp_path: Path
) -> None:
    """``-o /dev/null`` or a FIFO: renaming a temporary file over it would put a
    regular file where the device or pipe was."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(
        target=lambda: received.append(fifo.read_bytes()), daemon=True
    )
    reader.start()
    proc = skelgen(globals_obj, "-o", fifo)
    reader.join(timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert b"class GlobalsBpf(Skeleton)" in received[0]


@pytest.mark.parametrize("umask", [0o022, 0o027, 0o002, 0o077])
def test_the_output_honours_the_umask(
    globals_obj: Path, tmp_path: Path, umask: int
) -> None:
    out = tmp_path / "globals_skel.py"
    proc = subprocess.run(
        [sys.executable, "-m", "skelgen", str(globals_obj), "-o", str(out)],
        capture_output=True,
        text=True,
        check=False,
        preexec_fn=lambda: os.umask(umask),
    )
    assert proc.returncode == 0, proc.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o666 & ~umask
    assert [p.name for p in tmp_path.iterdir()] == [out.name]  # no temporary left


def test_module_runs_with_python_m(globals_obj: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "skelgen", "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0 and proc.stdout.startswith("skelgen ")
    assert shutil.which("skelgen", path=os.path.dirname(sys.executable)) is not None


# -- bad input ------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    out = tmp_path / "out.py"
    assert_one_line_error(
        skelgen(tmp_path / "nope.o", "-o", out), "nope.o", "No such file"
    )
    assert not out.exists()


def test_empty_and_text_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.o"
    empty.write_bytes(b"")
    text = tmp_path / "text.o"
    text.write_text("this is not an object\n")
    for bad in (empty, text):
        assert_one_line_error(
            skelgen(bad, "-o", tmp_path / "out.py"), "not an ELF file"
        )
    assert not (tmp_path / "out.py").exists()


def test_truncated_object(globals_obj: Path, tmp_path: Path) -> None:
    data = globals_obj.read_bytes()
    for cut in (64, len(data) // 3, len(data) // 2, len(data) - 100):
        bad = tmp_path / f"cut{cut}.o"
        bad.write_bytes(data[:cut])
        assert_one_line_error(skelgen(bad, "-o", tmp_path / "out.py"), str(bad))
        with pytest.raises(ObjectError):
            BPFObject.open(bad)
    assert not (tmp_path / "out.py").exists()


def test_names_from_the_object_are_quoted_in_errors(
    globals_obj: Path, tmp_path: Path
) -> None:
    """A program whose name holds a newline and whose size is wrong: the error
    names it by repr(), on one line."""
    elf = Elf.parse(globals_obj.read_bytes())
    symtab = elf.find(b".symtab")
    strtab = elf.sections[symtab].header[6]
    symbols = [list(s) for s in SYM.iter_unpack(elf.sections[symtab].data)]
    function = next(s for s in symbols if s[1] & 0xF == 2)  # STT_FUNC
    function[0] = elf.add_string(strtab, b"evil\nname")
    function[5] += 3  # not a whole number of instructions
    elf.set_data(symtab, b"".join(SYM.pack(*s) for s in symbols))
    bad = tmp_path / "named.o"
    bad.write_bytes(elf.to_bytes())
    proc = skelgen(bad, "-o", tmp_path / "out.py")
    assert_one_line_error(proc, "function 'evil\\nname' has a bad size")


def test_x86_object_is_not_bpf(tmp_path: Path) -> None:
    source = tmp_path / "x86.c"
    source.write_text("int answer(void) { return 42; }\n")
    obj = tmp_path / "x86.o"
    subprocess.run(["gcc", "-c", str(source), "-o", str(obj)], check=True)
    assert_one_line_error(skelgen(obj, "-o", tmp_path / "out.py"), "not a BPF object")


def test_object_without_btf(tmp_path: Path) -> None:
    from libbpf_oracle import find_clang

    source = Path(__file__).parents[1] / "bpf" / "reject.bpf.c"
    obj = tmp_path / "nobtf.o"
    include = f"-I/usr/include/{subprocess.run(['gcc', '-print-multiarch'], capture_output=True, text=True, check=False).stdout.strip()}"
    subprocess.run(
        [
            find_clang() or "clang",
            "-O2",
            "-target",
            "bpf",
            include,
            "-c",
            str(source),
            "-o",
            str(obj),
        ],
        check=True,
    )
    assert_one_line_error(skelgen(obj, "-o", tmp_path / "out.py"), "no BTF", "-g")


def test_name_that_is_not_an_identifier(globals_obj: Path, tmp_path: Path) -> None:
    for name in ("1abc", "my-prog", "class", "a b"):
        out = tmp_path / "out.py"
        assert_one_line_error(
            skelgen(globals_obj, "-o", out, "--name", name), "not a Python identifier"
        )
        assert not out.exists()


def test_unwritable_output_leaves_nothing_behind(
    globals_obj: Path, tmp_path: Path
) -> None:
    target_dir = tmp_path / "dir.py"
    target_dir.mkdir()
    assert_one_line_error(skelgen(globals_obj, "-o", target_dir))
    assert_one_line_error(skelgen(globals_obj, "-o", tmp_path / "missing" / "out.py"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dir.py"]
    assert list(target_dir.iterdir()) == []


def test_failed_generation_keeps_the_previous_output(
    globals_obj: Path, tmp_path: Path
) -> None:
    out = tmp_path / "keep.py"
    out.write_text("previous = 1\n")
    bad = tmp_path / "bad.o"
    bad.write_bytes(globals_obj.read_bytes()[:200])
    assert_one_line_error(skelgen(bad, "-o", out))
    assert out.read_text() == "previous = 1\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_event_type_option_types_an_untyped_ring_buffer(
    build_bpf: Callable[[str], Path], tmp_path: Path
) -> None:
    obj = build_bpf("untyped_ringbuf")
    plain = tmp_path / "plain_skel.py"
    assert skelgen_ok(obj, plain)
    assert "samples: RingBuf[bytes]" in plain.read_text()
    typed = tmp_path / "typed_skel.py"
    assert skelgen_ok(obj, typed, "--event-type", "samples=sample")
    assert "samples: RingBuf[sample]" in typed.read_text()
    typed_skel = import_file(tmp_path / "typed_skel.py", "typed_skel")
    with typed_skel.UntypedRingbufBpf.open_and_load() as skel:
        skel.progs.emit.test_run()
        records = skel.maps.samples.drain()
    assert [(r.seq, r.value) for r in records] == [(0, 0), (1, 100), (2, 200)]


def test_event_type_option_errors(
    build_bpf: Callable[[str], Path], tmp_path: Path
) -> None:
    obj = build_bpf("untyped_ringbuf")
    out = tmp_path / "out.py"
    assert_one_line_error(
        skelgen(obj, "-o", out, "--event-type", "samples"), "MAP=TYPE"
    )
    assert_one_line_error(
        skelgen(obj, "-o", out, "--event-type", "nope=sample"), "no map named 'nope'"
    )
    assert_one_line_error(
        skelgen(obj, "-o", out, "--event-type", "not_a_stream=sample"),
        "not a ring or perf buffer",
    )
    assert_one_line_error(
        skelgen(obj, "-o", out, "--event-type", "samples=missing"), "no such named type"
    )
    assert not out.exists()


def test_event_type_option_types_a_perf_buffer(
    build_bpf: Callable[[str], Path], tmp_path: Path
) -> None:
    obj = build_bpf("perfbuf_events")
    assert "events: PerfEventArray[bytes]" in skelgen(obj).stdout
    out = tmp_path / "typed_perf_skel.py"
    assert skelgen_ok(obj, out, "--event-type", "events=event")
    assert "events: PerfEventArray[event]" in out.read_text()
    typed_perf_skel = import_file(tmp_path / "typed_perf_skel.py", "typed_perf_skel")
    with typed_perf_skel.PerfbufEventsBpf.open_and_load() as skel:
        skel.bss.target_pid = os.getpid()
        skel.bss.emit_count = 3
        skel.attach()
        skel.maps.events.open_buffer(page_count=8)
        os.getppid()
        events = skel.maps.events.drain()
    assert isinstance(events[0], typed_perf_skel.event)
    assert [(e.seq, e.value) for e in events] == [(0, 0), (1, 3), (2, 6)]


def test_subskeleton_binds_by_name_and_embeds_nothing(
    build_bpf: Callable[[str], Path], tmp_path: Path
) -> None:
    lib = build_bpf("subskel_lib")
    out = tmp_path / "lib_subskel.py"
    proc = skelgen("--subskeleton", lib, "-o", out)
    assert proc.returncode == 0, proc.stderr
    text = out.read_text()
    assert "_object_data_" not in text and "Typed subskeleton of" in text
    module = import_file(out, "cli_lib_subskel")
    cls = module.SubskelLibBpf
    assert cls._datasecs_["bss"][0] == ".bss"
    assert cls._datasecs_["bss"][2] == {"lib_counter": "lib_counter"}
    # The library alone is an object linked with itself: every name is found.
    with BPFObject.open(lib) as obj:
        sub = cls(obj)
        sub.data.lib_step = 9
        assert obj.datasec(".data").read() == (9).to_bytes(4, "little")
        assert sub.progs.lib_reset is obj.programs["lib_reset"]
