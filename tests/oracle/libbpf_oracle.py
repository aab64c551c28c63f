"""Run BPF objects through the system libbpf, as a reference for skelgen.

The C side lives in ``libbpf_harness.c``: it opens and loads one object with
libbpf, test-runs the programs asked for and prints a JSON document with the
outcome and the contents of every global-data map.  This module builds that
harness (cached by source hash), runs it and decodes its output.  The harness
links the system's libbpf unless given another one: ``build_libbpf`` makes a
static libbpf of a source tree (scripts/corpus_compare.py uses a current one).
It also has
the helpers needed to build BPF test objects: ``generate_vmlinux_h`` and
``compile_bpf``, plus ``datasec_symbols`` to find named globals inside the
dumped data sections.

Standard library only.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import struct
import subprocess
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HARNESS_SOURCE = Path(__file__).with_name("libbpf_harness.c")
LIBBPF_HEADER = Path("/usr/include/bpf/libbpf.h")
VMLINUX_BTF = Path("/sys/kernel/btf/vmlinux")
HARNESS_CFLAGS = ("-O2", "-g", "-Wall", "-Wextra", "-Wshadow", "-std=gnu11")
HARNESS_LIBS = ("-lbpf", "-lelf", "-lz")
BPF_CFLAGS = ("-g", "-O2", "-target", "bpf", "-D__TARGET_ARCH_x86")
CLANG_CANDIDATES = ("clang-19", "clang")


class OracleError(RuntimeError):
    """A tool of the oracle failed (compiler, bpftool, harness)."""


@dataclass(frozen=True)
class ProgramInfo:
    """One program of the object, as libbpf saw it after bpf_object__load."""

    name: str
    section: str
    type: str
    autoload: bool
    fd_ok: bool
    insn_cnt: int
    insns: bytes | None = None


@dataclass(frozen=True)
class LibbpfResult:
    """Decoded output of one harness run."""

    load_ok: bool
    errno: int
    programs: dict[str, ProgramInfo]
    retvals: dict[str, int]
    datasecs: dict[str, bytes]
    run_errors: dict[str, int] = field(default_factory=dict)
    stage: str | None = None
    pid: int = 0
    libbpf_version: str = ""
    stderr: str = ""
    # With attach_usdt: the attach's errno (0: attached) and the first values of
    # __bpf_usdt_specs while it was attached.
    usdt_errno: int | None = None
    usdt_specs: list[bytes] = field(default_factory=list)

    def fd_ok(self, name: str) -> bool:
        return self.programs[name].fd_ok


def _sha256(*parts: bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(len(part).to_bytes(8, "little"))
        digest.update(part)
    return digest.hexdigest()


def _require(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise OracleError(f"{tool} not found in PATH")
    return path


def find_clang() -> str | None:
    """The clang used for BPF objects: $BPF_CLANG, else clang-19, else clang."""
    override = os.environ.get("BPF_CLANG")
    if override:
        return shutil.which(override)
    for candidate in CLANG_CANDIDATES:
        path = shutil.which(candidate)
        if path is not None:
            return path
    return None


def missing_prerequisites() -> list[str]:
    """What this machine lacks for the oracle; empty when all is there."""
    missing = []
    if find_clang() is None:
        missing.append("clang")
    for tool in ("bpftool", "gcc"):
        if shutil.which(tool) is None:
            missing.append(tool)
    if not LIBBPF_HEADER.is_file():
        missing.append(f"libbpf headers ({LIBBPF_HEADER})")
    if not VMLINUX_BTF.is_file():
        missing.append(f"kernel BTF ({VMLINUX_BTF})")
    return missing


def _harness_flags(libbpf: Path | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The compiler flags and libraries of the harness linked with the system's
    libbpf, or statically with the one installed under *libbpf* (``build_libbpf``)."""
    if libbpf is None:
        return HARNESS_CFLAGS, HARNESS_LIBS
    return (
        (*HARNESS_CFLAGS, f"-I{libbpf / 'include'}"),
        (str(libbpf / "lib" / "libbpf.a"), *HARNESS_LIBS[1:]),
    )


def harness_path(workdir: Path, libbpf: Path | None = None) -> Path:
    """Where ``build_harness`` puts (or finds) the harness of this source in *workdir*."""
    source = HARNESS_SOURCE.read_bytes()
    cflags, libs = _harness_flags(libbpf)
    key = _sha256(source, " ".join(cflags + libs).encode())[:16]
    return workdir / f"libbpf_harness-{key}"


def build_harness(workdir: Path, libbpf: Path | None = None) -> Path:
    """Compile libbpf_harness.c into *workdir*; reuse a build of the same source.
    *libbpf*: link the libbpf ``build_libbpf`` installed there, not the system's."""
    binary = harness_path(workdir, libbpf)
    if binary.is_file() and os.access(binary, os.X_OK):
        return binary
    gcc = _require("gcc")
    workdir.mkdir(parents=True, exist_ok=True)
    # Build under a private name and rename: concurrent builders cannot see
    # a half-written binary.
    fd, tmp_name = tempfile.mkstemp(prefix=".libbpf_harness-", dir=workdir)
    os.close(fd)
    cflags, libs = _harness_flags(libbpf)
    cmd = [gcc, *cflags, "-o", tmp_name, str(HARNESS_SOURCE), *libs]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        os.unlink(tmp_name)
        raise OracleError(f"building the libbpf harness failed:\n{proc.stderr}")
    os.replace(tmp_name, binary)
    return binary


def libbpf_build_command(source: Path, dest: Path) -> list[str]:
    """make of libbpf's ``src/`` in *source* that installs ``include/{bpf,linux}``
    and a static ``lib/libbpf.a`` under *dest* (objects in ``dest/obj``)."""
    return [
        "make",
        "-s",
        "-C",
        str(source / "src"),
        "BUILD_STATIC_ONLY=1",
        f"OBJDIR={dest / 'obj'}",
        f"DESTDIR={dest}",
        "PREFIX=",
        "LIBDIR=/lib",
        # libbpf's default CFLAGS add -Werror: a newer gcc's new warning must not
        # stop the oracle.
        "CFLAGS=-g -O2",
        "install",
        "install_uapi_headers",
    ]


def build_libbpf(source: Path, dest: Path) -> Path:
    """Build the libbpf source tree *source* (its ``src/`` and ``include/``) as a
    static library installed under *dest*, for ``build_harness``; reuse *dest* when
    it holds one (name it by the source's commit).  Needs gcc, make and the headers
    of libelf-dev and zlib1g-dev (scripts/setup.sh installs them)."""
    archive = dest / "lib" / "libbpf.a"
    if archive.is_file():
        return dest
    for header, package in (("libelf.h", "libelf-dev"), ("zlib.h", "zlib1g-dev")):
        if not Path("/usr/include", header).is_file():
            raise OracleError(f"building libbpf needs {package} (make setup)")
    _require("gcc")
    _require("make")
    # Build beside *dest* and rename: no half-built library is ever found there.
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}-", dir=dest.parent))
    proc = subprocess.run(
        libbpf_build_command(source, staging),
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        shutil.rmtree(staging)
        raise OracleError(f"building libbpf in {source} failed:\n{proc.stderr}")
    shutil.rmtree(staging / "obj")
    if dest.exists():
        shutil.rmtree(dest)
    os.replace(staging, dest)
    return dest


def default_harness_dir() -> Path:
    """Cache directory for the harness: $SKELGEN_ORACLE_CACHE or a temp dir."""
    override = os.environ.get("SKELGEN_ORACLE_CACHE")
    if override:
        return Path(override)
    return Path(tempfile.gettempdir()) / "skelgen-libbpf-oracle"


def _harness(harness: Path | None) -> Path:
    return harness if harness is not None else build_harness(default_harness_dir())


def _run_harness(
    args: Sequence[str],
    harness: Path | None,
    preexec: Callable[[], None] | None,
    timeout: float,
) -> tuple[dict[str, Any], str]:
    cmd = [str(_harness(harness)), *args]
    proc = subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
        preexec_fn=preexec,
    )
    if proc.returncode != 0:
        raise OracleError(
            f"{' '.join(cmd)} exited with {proc.returncode}:\n{proc.stderr}"
        )
    try:
        doc = json.loads(proc.stdout)
    except json.JSONDecodeError as exc:
        raise OracleError(
            f"harness printed invalid JSON ({exc}):\n{proc.stdout}"
        ) from exc
    if not isinstance(doc, dict):
        raise OracleError(f"harness printed a non-object: {proc.stdout}")
    return doc, proc.stderr


def _program(entry: Mapping[str, Any]) -> ProgramInfo:
    insns = entry.get("insns")
    return ProgramInfo(
        name=str(entry["name"]),
        section=str(entry["section"]),
        type=str(entry["type"]),
        autoload=bool(entry["autoload"]),
        fd_ok=bool(entry["fd_ok"]),
        insn_cnt=int(entry["insn_cnt"]),
        insns=bytes.fromhex(insns) if isinstance(insns, str) else None,
    )


def run_libbpf(
    obj: Path,
    run: Sequence[str] = (),
    load_only: Sequence[str] = (),
    *,
    harness: Path | None = None,
    dump_insns: bool = False,
    preexec: Callable[[], None] | None = None,
    timeout: float = 120.0,
    attach_usdt: str | None = None,
    usdt_cookie: int = 0,
) -> LibbpfResult:
    """Load *obj* with libbpf, test-run the programs in *run*, dump global data.

    *load_only*, when not empty, turns autoload off for every other program.
    *preexec* runs in the harness process before exec (see subprocess).
    *attach_usdt* (``PROG:BINARY:PROVIDER:NAME``) attaches a USDT program for every
    process with *usdt_cookie* and reports the specs libbpf wrote.
    """
    args = [str(obj)]
    for name in run:
        args += ["--run", name]
    for name in load_only:
        args += ["--load-only-prog", name]
    if dump_insns:
        args.append("--dump-insns")
    if attach_usdt is not None:
        args += ["--attach-usdt", attach_usdt, "--usdt-cookie", str(usdt_cookie)]
    doc, stderr = _run_harness(args, harness, preexec, timeout)
    runs = doc.get("runs", [])
    usdt = doc.get("usdt")
    return LibbpfResult(
        load_ok=doc["load"] == "ok",
        errno=int(doc.get("errno", 0)),
        stage=doc.get("stage"),
        programs={p["name"]: _program(p) for p in doc.get("programs", [])},
        retvals={r["name"]: int(r["retval"]) for r in runs if r["ok"]},
        run_errors={r["name"]: int(r["errno"]) for r in runs if not r["ok"]},
        datasecs={k: bytes.fromhex(v) for k, v in doc.get("datasecs", {}).items()},
        pid=int(doc.get("pid", 0)),
        libbpf_version=str(doc.get("libbpf_version", "")),
        stderr=stderr,
        usdt_errno=None if usdt is None else int(usdt["errno"]),
        usdt_specs=[] if usdt is None else [bytes.fromhex(v) for v in usdt["specs"]],
    )


def time_open_load(
    obj: Path,
    n: int,
    *,
    load_only: Sequence[str] = (),
    harness: Path | None = None,
    timeout: float = 600.0,
) -> float:
    """Mean microseconds of bpf_object__open_file + bpf_object__load over *n* runs."""
    if n <= 0:
        raise ValueError("n must be positive")
    args = [str(obj), "--time", str(n)]
    for name in load_only:
        args += ["--load-only-prog", name]
    doc, stderr = _run_harness(args, harness, None, timeout)
    timing = doc["time"]
    if timing["failures"]:
        raise OracleError(
            f"{timing['failures']} of {n} loads of {obj} failed:\n{stderr}"
        )
    return float(timing["mean_us"])


# ---- building BPF objects ---------------------------------------------------


def generate_vmlinux_h(dest_dir: Path, btf: Path = VMLINUX_BTF) -> Path:
    """Write ``dest_dir/vmlinux.h`` from kernel BTF with bpftool."""
    bpftool = _require("bpftool")
    dest_dir.mkdir(parents=True, exist_ok=True)
    header = dest_dir / "vmlinux.h"
    proc = subprocess.run(
        [bpftool, "btf", "dump", "file", str(btf), "format", "c"],
        capture_output=True,
        check=False,
    )
    if proc.returncode != 0:
        raise OracleError(
            f"bpftool btf dump failed:\n{proc.stderr.decode(errors='replace')}"
        )
    header.write_bytes(proc.stdout)
    return header


def compile_bpf(
    source: Path,
    out_dir: Path,
    include_dirs: Sequence[Path] = (),
    extra_flags: Sequence[str] = (),
) -> Path:
    """Compile one ``*.bpf.c`` into ``out_dir/<stem>.o`` with clang."""
    clang = find_clang()
    if clang is None:
        raise OracleError("no clang found (set BPF_CLANG)")
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / (source.name.removesuffix(".c") + ".o")
    cmd = [clang, *BPF_CFLAGS, *(f"-I{d}" for d in include_dirs), *extra_flags]
    cmd += ["-c", str(source), "-o", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise OracleError(f"{' '.join(cmd)} failed:\n{proc.stderr}")
    return out


# ---- finding globals in the dumped data sections ------------------------------

_ELF_HEADER = struct.Struct("<16sHHIQQQIHHHHHH")
_SECTION_HEADER = struct.Struct("<IIQQQQIIQQ")
_SYMBOL = struct.Struct("<IBBHQQ")
_SHT_SYMTAB = 2
_STT_OBJECT = 1
_SHN_LORESERVE = 0xFF00
_DATASEC_PREFIXES = (".bss", ".data", ".rodata", ".kconfig")


def _cstr(blob: bytes, offset: int) -> str:
    end = blob.index(b"\0", offset)
    return blob[offset:end].decode()


def datasec_symbols(obj: Path) -> dict[str, dict[str, tuple[int, int]]]:
    """Named globals of a BPF ELF object: {section: {symbol: (offset, size)}}.

    Only sections that libbpf turns into global-data maps are reported.
    Reads the ELF64 little-endian symbol table directly.
    """
    blob = obj.read_bytes()
    header = _ELF_HEADER.unpack_from(blob, 0)
    ident = header[0]
    if ident[:4] != b"\x7fELF" or ident[4] != 2 or ident[5] != 1:
        raise OracleError(f"{obj} is not a little-endian ELF64 object")
    e_shoff, e_shentsize, e_shnum, e_shstrndx = (
        header[6],
        header[11],
        header[12],
        header[13],
    )
    sections = [
        _SECTION_HEADER.unpack_from(blob, e_shoff + i * e_shentsize)
        for i in range(e_shnum)
    ]
    shstr_off = sections[e_shstrndx][4]
    names = [_cstr(blob, shstr_off + s[0]) for s in sections]
    result: dict[str, dict[str, tuple[int, int]]] = {}
    for sec in sections:
        if sec[1] != _SHT_SYMTAB:
            continue
        sym_off, sym_size, strtab_idx, sym_entsize = sec[4], sec[5], sec[6], sec[9]
        str_off = sections[strtab_idx][4]
        for pos in range(sym_off, sym_off + sym_size, sym_entsize):
            st_name, st_info, _, st_shndx, st_value, st_size = _SYMBOL.unpack_from(
                blob, pos
            )
            if st_info & 0xF != _STT_OBJECT or not 0 < st_shndx < _SHN_LORESERVE:
                continue
            section = names[st_shndx]
            if not section.startswith(_DATASEC_PREFIXES):
                continue
            result.setdefault(section, {})[_cstr(blob, str_off + st_name)] = (
                st_value,
                st_size,
            )
    return result


def global_values(obj: Path, datasecs: Mapping[str, bytes]) -> dict[str, bytes]:
    """Bytes of every named global of *obj* found in the dumped *datasecs*."""
    values: dict[str, bytes] = {}
    for section, symbols in datasec_symbols(obj).items():
        data = datasecs.get(section)
        if data is None:
            continue
        for name, (offset, size) in symbols.items():
            values[name] = data[offset : offset + size]
    return values
