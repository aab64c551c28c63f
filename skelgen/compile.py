"""``skelgen compile``: clang with the flags a CO-RE program needs, and a vmlinux.h.

The command line is the one libbpf-tools use —
``clang -g -O2 -target bpf -D__TARGET_ARCH_<arch> -I<vmlinux.h dir>
-I/usr/include/<multiarch> -c prog.bpf.c -o prog.bpf.o`` — with the vmlinux.h
written by :mod:`.c_header` from the kernel's BTF rather than by bpftool, and
skelgen's own BPF headers (:data:`INCLUDE_DIR`) on the include path.  The
header is kept in the runtime's cache directory under the SHA-256 of the BTF and
the skelgen version, so only the first compile on a kernel pays for it.
"""

from __future__ import annotations

import hashlib
import os
import platform
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from skelgen_runtime.btf import Btf
from skelgen_runtime.cache import cache_dir, store_file
from skelgen_runtime.errors import ObjectError
from skelgen_runtime.obj.elf import btf_bytes

from . import __version__
from .c_header import c_header

VMLINUX_BTF = "/sys/kernel/btf/vmlinux"
# Headers skelgen ships for BPF programs (``#include <skelgen/hist.bpf.h>``).
INCLUDE_DIR = Path(__file__).resolve().parent / "include"
CLANG_CANDIDATES = ("clang-19", "clang")
BPF_FLAGS = ("-g", "-O2", "-target", "bpf")

# uname -m → the __TARGET_ARCH_ suffix bpf_tracing.h knows.
_TARGET_ARCHES = {
    "x86_64": "x86",
    "i386": "x86",
    "i686": "x86",
    "aarch64": "arm64",
    "arm64": "arm64",
    "armv7l": "arm",
    "armv6l": "arm",
    "ppc64le": "powerpc",
    "ppc64": "powerpc",
    "s390x": "s390",
    "riscv64": "riscv",
    "mips64": "mips",
    "mips": "mips",
    "loongarch64": "loongarch",
    "sparc64": "sparc",
}
# uname -m → Debian's multiarch triplet, for when gcc is not there to say it.
_MULTIARCH = {
    "x86_64": "x86_64-linux-gnu",
    "i386": "i386-linux-gnu",
    "i686": "i386-linux-gnu",
    "aarch64": "aarch64-linux-gnu",
    "armv7l": "arm-linux-gnueabihf",
    "ppc64le": "powerpc64le-linux-gnu",
    "s390x": "s390x-linux-gnu",
    "riscv64": "riscv64-linux-gnu",
    "loongarch64": "loongarch64-linux-gnu",
    "mips64": "mips64el-linux-gnuabi64",
}
_MISSING_BPF_HEADER = re.compile(r"'(bpf/[\w.]+\.h)' file not found")


class CompileError(Exception):
    """The BPF source could not be compiled; ``diagnostics``: what clang said."""

    def __init__(self, message: str, diagnostics: str = "") -> None:
        super().__init__(message)
        self.diagnostics = diagnostics


def find_clang(explicit: str | None = None) -> str:
    """``--clang``, else ``$CLANG``, else clang-19, else clang."""
    wanted = explicit or os.environ.get("CLANG")
    for candidate in (wanted,) if wanted else CLANG_CANDIDATES:
        path = shutil.which(candidate)
        if path is not None:
            return path
    if wanted:
        raise CompileError(f"clang {wanted!r} not found")
    raise CompileError(
        "clang not found: install clang (Debian: clang-19) or pass --clang"
    )


def target_arch(machine: str | None = None) -> str:
    """The ``__TARGET_ARCH_`` of this machine (``x86`` on x86_64)."""
    machine = machine or platform.machine()
    try:
        return _TARGET_ARCHES[machine]
    except KeyError:
        raise CompileError(
            f"no __TARGET_ARCH_ known for machine {machine!r}: pass"
            " -- -D__TARGET_ARCH_<arch>"
        ) from None


def multiarch_include(machine: str | None = None) -> Path | None:
    """``/usr/include/<triplet>`` (where ``asm/types.h`` lives on Debian), if there."""
    try:
        triplet = subprocess.run(
            ["gcc", "-print-multiarch"], capture_output=True, text=True, check=False
        ).stdout.strip()
    except OSError:
        triplet = ""
    triplet = triplet or _MULTIARCH.get(machine or platform.machine(), "")
    path = Path("/usr/include") / triplet
    return path if triplet and path.is_dir() else None


def read_btf_file(path: str) -> bytes:
    """The raw BTF of a file: raw BTF itself, or an ELF file's ``.BTF`` section."""
    try:
        return btf_bytes(Path(path).read_bytes())
    except OSError as exc:
        raise ObjectError(f"BTF {path}: {exc.strerror or exc}") from None
    except ObjectError as exc:
        raise ObjectError(f"BTF {path}: {exc}") from None


def header_of_btf_file(btf_path: str, data: bytes | None = None) -> str:
    """The vmlinux.h of the BTF file ``btf_path`` (whose bytes are ``data``)."""
    data = read_btf_file(btf_path) if data is None else data
    try:
        btf = Btf.from_bytes(data)
    except ObjectError as exc:
        raise ObjectError(f"BTF {btf_path}: {exc}") from None
    return c_header(btf)


def vmlinux_header(btf_path: str, scratch: Path) -> Path:
    """A directory holding ``vmlinux.h`` for the BTF at ``btf_path``: the cached
    one, else one written now (into the cache, or ``scratch`` without one)."""
    data = read_btf_file(btf_path)
    key = hashlib.sha256(data + f"\0skelgen {__version__}".encode()).hexdigest()
    cache = cache_dir()
    if cache is not None:
        directory = cache / "vmlinux-h" / key[:40]
        if (directory / "vmlinux.h").is_file():
            return directory
    header = header_of_btf_file(btf_path, data).encode()
    if cache is not None and store_file(directory / "vmlinux.h", header):
        return directory
    (scratch / "vmlinux.h").write_bytes(header)
    return scratch


def clang_command(
    clang: str,
    source: Path,
    output: Path,
    include_dirs: Sequence[Path],
    extra_flags: Sequence[str] = (),
    machine: str | None = None,
) -> list[str]:
    """The clang command line; ``extra_flags`` go before skelgen's include
    directories (so the caller's win) and a ``-D__TARGET_ARCH_`` among them
    replaces this machine's."""
    command = [clang, *BPF_FLAGS]
    if not any(flag.startswith("-D__TARGET_ARCH_") for flag in extra_flags):
        command.append(f"-D__TARGET_ARCH_{target_arch(machine)}")
    command += extra_flags
    command += [f"-I{directory}" for directory in include_dirs]
    command += ["-c", str(source), "-o", str(output)]
    return command


def compile_bpf(
    source: Path,
    output: Path,
    *,
    clang: str | None = None,
    btf_path: str = VMLINUX_BTF,
    extra_flags: Sequence[str] = (),
    cwd: Path | None = None,
) -> str:
    """Compile ``source`` into ``output``; returns clang's warnings (stderr).
    ``cwd``: where clang runs; relative paths, in ``extra_flags`` too, start there."""
    if cwd is not None:
        source, output = cwd / source, cwd / output
    if not source.is_file():
        raise CompileError(f"{source}: no such file")
    compiler = find_clang(clang)
    with tempfile.TemporaryDirectory(prefix="skelgen-") as scratch:
        include_dirs = [vmlinux_header(btf_path, Path(scratch)), INCLUDE_DIR]
        multiarch = multiarch_include()
        if multiarch is not None:
            include_dirs.append(multiarch)
        command = clang_command(compiler, source, output, include_dirs, extra_flags)
        try:
            proc = subprocess.run(
                command, capture_output=True, text=True, check=False, cwd=cwd
            )
        except OSError as exc:
            raise CompileError(f"cannot run {compiler}: {exc.strerror}") from None
    if proc.returncode == 0:
        return proc.stderr
    missing = _MISSING_BPF_HEADER.search(proc.stderr)
    if missing is not None:
        raise CompileError(
            f"{source}: {missing[1]} not found: install libbpf's headers"
            " (Debian: libbpf-dev) or pass -- -I<dir>"
        )
    raise CompileError(
        f"{source}: clang failed (exit status {proc.returncode})", proc.stderr
    )
