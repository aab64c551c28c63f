"""Benchmark: from process spawn to "every program attached", one tool several ways.

The same programs as a libbpf C skeleton (``bpftool gen skeleton``), a skelgen
skeleton, and (the small one) a bcc tool; a bare ``python -c`` is the floor of
anything written in Python.  Each side runs as a new process that prints, once
attached, CLOCK_MONOTONIC and its own CPU time (``startup/attached.c``,
``startup/attached.py``, ``startup/bcc_small.py``); the sides take turns, round
after round.  Ratios are of CPU time, which a busy machine disturbs far less than
wall time (kept too, median, for the notes).

    sudo .venv/bin/python bench/start_attached.py [-n 15]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SOURCES = HERE / "startup"
BUILD = ROOT / "build" / "bench" / "startup"
CLANG = os.environ.get("BPF_CLANG", "clang-19")
SYSTEM_PYTHON = "/usr/bin/python3"  # where Debian's python3-bpfcc installs bcc
BCC_ROUNDS = 3  # bcc compiles C at every start: ~1 s each


@dataclass(frozen=True)
class Tool:
    """One BPF program as every side builds it."""

    name: str  # object name: bpftool's skeleton prefix, skelgen's module
    source: Path
    core: bool  # compiled against vmlinux.h (CO-RE), or against uapi headers only

    @property
    def skeleton_class(self) -> str:
        return "".join(part.capitalize() for part in self.name.split("_"))


SMALL = Tool("small_bpf", SOURCES / "small.bpf.c", core=False)
EXECSNOOP = Tool(
    "execsnoop_bpf", ROOT / "tests" / "bpf" / "tool_execsnoop.bpf.c", core=True
)


@dataclass(frozen=True)
class Start:
    """Best CPU time and median wall time of one side, start → attached, in ns."""

    cpu_ns: float
    wall_ns: float
    import_cpu_ns: float = 0.0  # skelgen: the import of the generated module


def _run(cmd: list[str], **kwargs: object) -> str:
    return subprocess.run(
        cmd, check=True, capture_output=True, text=True, **kwargs  # type: ignore[call-overload]
    ).stdout


def _vmlinux_h() -> Path:
    header = BUILD / "include" / "vmlinux.h"
    if not header.exists():
        header.parent.mkdir(parents=True, exist_ok=True)
        text = _run(["bpftool", "btf", "dump", "file", "/sys/kernel/btf/vmlinux", "format", "c"])  # fmt: skip
        header.write_text(text)
    return header


def build(tool: Tool) -> tuple[Path, Path]:
    """(the C skeleton's binary, the generated module) of ``tool``."""
    BUILD.mkdir(parents=True, exist_ok=True)
    triple = _run(["gcc", "-print-multiarch"]).strip()
    obj = BUILD / f"{tool.name}.o"
    includes = [f"-I/usr/include/{triple}"]
    if tool.core:
        includes.append(f"-I{_vmlinux_h().parent}")
    _run([CLANG, "-g", "-O2", "-target", "bpf", "-D__TARGET_ARCH_x86", *includes,
          "-c", str(tool.source), "-o", str(obj)])  # fmt: skip
    header = BUILD / f"{tool.name}.skel.h"
    header.write_text(_run(["bpftool", "gen", "skeleton", str(obj), "name", tool.name]))
    binary = BUILD / f"{tool.name}_c"
    _run(["gcc", "-O2", "-Wall", f"-I{BUILD}", f"-DSKEL={tool.name}",
          f'-DSKEL_H="{header.name}"', "-o", str(binary), str(SOURCES / "attached.c"),
          "-lbpf", "-lelf", "-lz"])  # fmt: skip
    module = BUILD / f"{tool.name}_skel.py"
    skelgen = Path(sys.executable).parent / "skelgen"
    _run([str(skelgen), str(obj), "--name", tool.name, "-o", str(module)])
    return binary, module


def bcc_kernel_source() -> dict[str, str] | None:
    """The environment bcc needs to compile here, or None when bcc is missing.

    bcc builds against the running kernel's headers; without them (a kernel with no
    headers package, as in many VMs) it is pointed at Debian's newest headers
    package, its two halves (common, arch) merged as one symlink tree."""
    probe = subprocess.run([SYSTEM_PYTHON, "-c", "import bcc"], capture_output=True)
    if probe.returncode != 0:
        return None
    if Path(f"/lib/modules/{platform.release()}/build").exists():
        return {}
    arches = sorted(Path("/usr/src").glob("linux-headers-*-amd64"))
    if not arches:
        return None
    arch = arches[-1]
    common = arch.with_name(arch.name.removesuffix("amd64") + "common")
    tree = BUILD / "kernel-headers" / arch.name
    if not tree.exists():
        partial = tree.parent / f"{tree.name}.partial"
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        for half in (common, arch):
            _run(["cp", "-rsf", f"{half}/.", f"{partial}/"])
        partial.rename(tree)
    return {"BCC_KERNEL_SOURCE": str(tree)}


def _once(cmd: list[str], env: dict[str, str] | None = None) -> tuple[int, int, int]:
    started = time.monotonic_ns()
    out = _run(cmd, env=env).split()
    attached, cpu = int(out[0]), int(out[1])
    return attached - started, cpu, int(out[2]) if len(out) > 2 else 0


def measure(
    sides: dict[str, tuple[list[str], dict[str, str] | None]], rounds: int
) -> dict[str, Start]:
    """Every side once per round, in turns (after one unmeasured warm-up each)."""
    samples: dict[str, list[tuple[int, int, int]]] = {name: [] for name in sides}
    for cmd, env in sides.values():
        _once(cmd, env)  # byte-compiled modules and page cache warm
    for round_index in range(rounds):
        order = list(sides.items())
        if round_index % 2:
            order.reverse()
        for name, (cmd, env) in order:
            if name.startswith("bcc") and round_index >= BCC_ROUNDS:
                continue
            samples[name].append(_once(cmd, env))
    return {
        name: Start(
            cpu_ns=min(s[1] for s in values),
            wall_ns=statistics.median(s[0] for s in values),
            import_cpu_ns=min(s[2] for s in values),
        )
        for name, values in samples.items()
    }


def python_env() -> dict[str, str]:
    """The environment of the Python sides: modules byte-compiled once, as installed
    ones are (into build/, whatever PYTHONDONTWRITEBYTECODE says)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(BUILD.parent / "pycache")
    return env


def run(rounds: int = 15) -> dict[str, Start]:
    """Keys: ``python`` (bare), ``c_NAME``, ``skelgen_NAME`` for each tool, and
    ``bcc_small_bpf`` when bcc can compile here."""
    env = python_env() | {"PYTHONPATH": str(BUILD)}
    sides: dict[str, tuple[list[str], dict[str, str] | None]] = {
        "python": (
            [sys.executable, "-c", "import time; print(time.monotonic_ns(), time.process_time_ns())"],
            python_env(),
        ),
    }  # fmt: skip
    for tool in (SMALL, EXECSNOOP):
        binary, module = build(tool)
        sides[f"c_{tool.name}"] = ([str(binary)], None)
        sides[f"skelgen_{tool.name}"] = (
            [sys.executable, str(SOURCES / "attached.py"), module.stem, tool.skeleton_class],
            env,
        )  # fmt: skip
    bcc_env = bcc_kernel_source()
    if bcc_env is not None:
        sides["bcc_small_bpf"] = (
            [SYSTEM_PYTHON, str(SOURCES / "bcc_small.py")],
            python_env() | bcc_env,
        )
    return measure(sides, rounds)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("-n", "--rounds", type=int, default=15)
    args = parser.parse_args()
    for name, start in run(args.rounds).items():
        print(
            f"{name:<24} cpu {start.cpu_ns / 1e6:7.1f} ms   wall {start.wall_ns / 1e6:7.1f} ms"
            + (f"   import {start.import_cpu_ns / 1e6:.1f} ms" if start.import_cpu_ns else "")
        )  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
