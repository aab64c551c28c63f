"""``skelgen compile`` and ``skelgen vmlinux``: from a .bpf.c to a loaded program
with no bpftool anywhere on PATH, and one clear line for every way it can fail."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from build_cache import BPF_SOURCES
from conftest import import_file, require
from libbpf_oracle import VMLINUX_BTF, find_clang
from test_cli import assert_one_line_error, skelgen as run_skelgen

from skelgen.compile import CompileError, clang_command, target_arch

KILL_SOURCE = BPF_SOURCES / "tool_killcount.bpf.c"


@pytest.fixture(scope="module")
def tools(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment of a build machine without bpftool: PATH holds clang
    alone (no gcc either, so the multiarch directory comes from the table), and
    the vmlinux.h cache is the test's own."""
    clang = find_clang()
    require(clang is not None, "no clang")
    require(VMLINUX_BTF.is_file(), f"no kernel BTF at {VMLINUX_BTF}")
    assert clang is not None
    bin_dir = tmp_path_factory.mktemp("bin")
    (bin_dir / "clang-19").symlink_to(clang)
    assert shutil.which("bpftool", path=str(bin_dir)) is None
    env = {k: v for k, v in os.environ.items() if k not in ("CLANG", "BPF_CLANG")}
    env["PATH"] = str(bin_dir)
    env["SKELGEN_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))
    return env


def skelgen(
    env: dict[str, str], *args: str | Path, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return run_skelgen(*args, cwd=cwd, env=env)


def assert_error(proc: subprocess.CompletedProcess[str], *needles: str) -> None:
    """Exit status 1, no traceback, and the last line of stderr is skelgen's
    (clang's diagnostics may come before it)."""
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert_one_line_error(
        subprocess.CompletedProcess(
            proc.args, 1, proc.stdout, proc.stderr.strip().splitlines()[-1]
        ),
        *needles,
    )


# -- from source to a running program ----------------------------------------------


@pytest.fixture(scope="module")
def killcount_skel(
    tools: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    out = tmp_path_factory.mktemp("killcount")
    proc = skelgen(
        tools,
        "compile",
        KILL_SOURCE,
        "-o",
        out / "killcount_skel.py",
        "--keep-object",
        out / "killcount.bpf.o",
    )
    assert proc.returncode == 0, proc.stderr
    return out


def test_compile_writes_the_module_and_the_kept_object(killcount_skel: Path) -> None:
    module = (killcount_skel / "killcount_skel.py").read_text()
    # named after the source, as "skelgen tool_killcount.bpf.o" would name it
    assert "class ToolKillcountBpf(Skeleton)" in module
    assert "first_args" in module
    assert (killcount_skel / "killcount.bpf.o").read_bytes()[:4] == b"\x7fELF"
    assert oct((killcount_skel / "killcount_skel.py").stat().st_mode & 0o777) != "0o600"


@pytest.mark.usefixtures("root_only")
def test_compiled_tool_loads_and_counts(killcount_skel: Path) -> None:
    module = import_file(killcount_skel / "killcount_skel.py", "skel_killcount")
    with module.ToolKillcountBpf.open() as skel:
        skel.rodata.targ_tgid = os.getpid()
        skel.load()
        skel.attach()
        for _ in range(3):
            os.kill(os.getpid(), 0)
        kills = skel.bss.kills
        nr = skel.data.kill_nr
        assert skel.bss.kill_target == os.getpid()
        assert skel.bss.parent_tgid == os.getppid()  # BPF_CORE_READ
        # pt_regs read through bpf_tracing.h: kill's first argument
        assert skel.maps.first_args[nr] == os.getpid()
    assert kills == 3


@pytest.mark.usefixtures("root_only")
@pytest.mark.parametrize("source", ["tool_opensnoop", "globals", "hist_slots"])
def test_compiled_test_sources_load(
    source: str, tools: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / f"{source}_skel.py"
    proc = skelgen(tools, "compile", BPF_SOURCES / f"{source}.bpf.c", "-o", out)
    assert proc.returncode == 0, proc.stderr
    module = import_file(out, f"skel_compiled_{source}")
    skeleton = next(
        cls
        for name, cls in vars(module).items()
        if name.endswith("Bpf") and isinstance(cls, type)
    )
    with skeleton.open() as skel:
        skel.load()
        assert all(p.fd >= 0 for p in skel.progs if p.autoload)


def test_clang_flags_after_dashes_reach_clang(
    tools: dict[str, str], tmp_path: Path
) -> None:
    source = tmp_path / "flagged.bpf.c"
    source.write_text(
        '#include "vmlinux.h"\n#include <bpf/bpf_helpers.h>\n'
        "#ifndef SKELGEN_TEST_FLAG\n#error no flag\n#endif\n"
        'char LICENSE[] SEC("license") = "GPL";\n'
        "int counter = SKELGEN_TEST_FLAG;\n"
    )
    out = tmp_path / "flagged_skel.py"
    proc = skelgen(tools, "compile", source, "-o", out, "--", "-DSKELGEN_TEST_FLAG=7")
    assert proc.returncode == 0, proc.stderr
    assert "class FlaggedBpf(Skeleton)" in out.read_text()


def test_vmlinux_header_is_written_once_per_btf(
    tools: dict[str, str], tmp_path: Path
) -> None:
    proc = skelgen(tools, "compile", KILL_SOURCE, "-o", tmp_path / "kill_skel.py")
    assert proc.returncode == 0, proc.stderr
    cached = list(Path(tools["SKELGEN_CACHE_DIR"]).glob("vmlinux-h/*/vmlinux.h"))
    assert len(cached) == 1


def test_vmlinux_of_an_object_and_to_stdout(
    tools: dict[str, str], killcount_skel: Path, tmp_path: Path
) -> None:
    # an ELF file with .BTF: the object's own types
    proc = skelgen(tools, "vmlinux", "--btf", killcount_skel / "killcount.bpf.o")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("#ifndef __VMLINUX_H__\n")
    assert "struct trace_event_raw_sys_enter {" in proc.stdout
    out = tmp_path / "vmlinux.h"
    assert skelgen(tools, "vmlinux", "-o", out).returncode == 0
    assert "struct task_struct {" in out.read_text()


def test_an_object_named_like_a_subcommand(
    tools: dict[str, str], killcount_skel: Path, tmp_path: Path
) -> None:
    shutil.copy(killcount_skel / "killcount.bpf.o", tmp_path / "compile")
    proc = skelgen(tools, "./compile", "-o", "out.py", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "class Compile(Skeleton)" in (tmp_path / "out.py").read_text()


# -- failures -----------------------------------------------------------------------


def test_clang_missing(tools: dict[str, str], tmp_path: Path) -> None:
    env = dict(tools, PATH=str(tmp_path))
    assert_one_line_error(
        skelgen(env, "compile", KILL_SOURCE), "clang not found", "clang-19"
    )
    assert_one_line_error(
        skelgen(tools, "compile", KILL_SOURCE, "--clang", tmp_path / "no-clang"),
        "no-clang",
        "not found",
    )


def test_libbpf_headers_missing(tools: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "out.py"
    # -nostdinc hides /usr/include/bpf as a machine without libbpf-dev would
    proc = skelgen(tools, "compile", KILL_SOURCE, "-o", out, "--", "-nostdinc")
    assert_one_line_error(proc, "bpf/bpf_helpers.h not found", "libbpf-dev")
    assert not out.exists()


def test_compile_error_shows_clangs_diagnostics(
    tools: dict[str, str], tmp_path: Path
) -> None:
    source = tmp_path / "broken.bpf.c"
    source.write_text('#include "vmlinux.h"\nint f(void) { return no_such_name; }\n')
    out = tmp_path / "out.py"
    out.write_text("previous\n")
    proc = skelgen(tools, "compile", source, "-o", out)
    assert_error(proc, "broken.bpf.c", "clang failed")
    diagnostics = proc.stderr.strip().splitlines()[:-1]
    assert any("error:" in line and "no_such_name" in line for line in diagnostics)
    assert out.read_text() == "previous\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.bpf.c", "out.py"]


def test_bad_btf(tools: dict[str, str], tmp_path: Path) -> None:
    text = tmp_path / "text.btf"
    text.write_text("not BTF at all\n")
    for command in ("compile", "vmlinux"):
        args = [command, KILL_SOURCE] if command == "compile" else [command]
        assert_one_line_error(
            skelgen(tools, *args, "--btf", tmp_path / "missing"), "missing"
        )
        assert_one_line_error(skelgen(tools, *args, "--btf", text), "text.btf")


def test_other_bad_input(tools: dict[str, str], tmp_path: Path) -> None:
    assert_one_line_error(
        skelgen(tools, "compile", tmp_path / "nothing.bpf.c"), "nothing.bpf.c"
    )
    assert_one_line_error(
        skelgen(tools, "compile", KILL_SOURCE, "--no-embed"), "--keep-object"
    )
    assert_one_line_error(
        skelgen(tools, "vmlinux", "-o", tmp_path / "no" / "dir" / "vmlinux.h"),
        "no/dir",
    )


def test_target_arch_and_flag_order() -> None:
    assert target_arch("x86_64") == "x86"
    assert target_arch("aarch64") == "arm64"
    with pytest.raises(CompileError, match="__TARGET_ARCH_"):
        target_arch("pdp11")
    command = clang_command(
        "clang", Path("p.bpf.c"), Path("p.o"), [Path("/inc")], ["-D__TARGET_ARCH_arm64"]
    )
    assert [f for f in command if f.startswith("-D__TARGET_ARCH_")] == [
        "-D__TARGET_ARCH_arm64"
    ]
    assert command.index("-D__TARGET_ARCH_arm64") < command.index("-I/inc")
