"""What the tests build (BPF objects, generated modules, C test programs, the libbpf
harness), kept in one directory and named by a hash of what determines it.

By default a session builds into a temporary directory.  With ``--build-cache DIR``
builds are kept across runs in DIR: a build whose source, flags or generated
``vmlinux.h`` changed goes to a new directory, so nothing stale is reused.  With
``--build-cache-only`` nothing is compiled at all: every build must already be in DIR.
That is how the tests run in a VM on another kernel (``scripts/kernels/``): the host
compiles and generates once against its own ``vmlinux.h`` (CO-RE makes the objects
portable) and the guest, whose root filesystem is the host's, read-only, only reads.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
sys.path.insert(0, str(TESTS / "oracle"))

import libbpf_oracle  # noqa: E402

BPF_SOURCES = TESTS / "bpf"
# skelgen's BPF headers (<skelgen/hist.bpf.h>), on every BPF compile's include path.
SKELGEN_INCLUDE = ROOT / "skelgen" / "include"
EXAMPLES = ROOT / "examples"
C_FLAGS = ("-g", "-O2")
# Test programs that tests build with extra flags (a non-PIE USDT target, a stack
# the kernel can walk).
C_PROGRAM_VARIANTS: dict[str, list[tuple[str, ...]]] = {
    "usdt_target.c": [(), ("-no-pie", "-fno-pie")],
    "symbols_target.c": [("-fno-omit-frame-pointer",)],
}


# Objects the tests link with bpftool gen object: the application, then its libraries.
LINKED_OBJECTS: dict[str, tuple[str, ...]] = {"subskel_app": ("subskel_lib",)}


class NotPrebuilt(RuntimeError):
    """A build is missing from a cache that may not compile (``--build-cache-only``)."""


def _key(*parts: bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(len(part).to_bytes(8, "little"))
        digest.update(part)
    return digest.hexdigest()[:16]


def system_includes() -> list[Path]:
    """Debian's multiarch include directory (asm/ headers), found without running gcc."""
    triple = sysconfig.get_config_var("MULTIARCH") or ""
    path = Path("/usr/include") / triple
    return [path] if triple and path.is_dir() else []


@functools.cache
def _skelgen_headers() -> bytes:
    return _key(
        *(p.read_bytes() for p in sorted(SKELGEN_INCLUDE.rglob("*.h")))
    ).encode()


@functools.cache
def _generator_fingerprint() -> bytes:
    """What generated modules depend on: the generator and the runtime it reads with."""
    sources = sorted((ROOT / "skelgen").rglob("*.py"))
    sources += sorted((ROOT / "runtime" / "skelgen_runtime").rglob("*.py"))
    return _key(*(p.read_bytes() for p in sources)).encode()


def without_bpftool(path: str) -> str:
    """``path`` (a $PATH) without the directories that hold a bpftool."""
    dirs = [d for d in path.split(os.pathsep) if d and not Path(d, "bpftool").exists()]
    return os.pathsep.join(dirs)


@functools.cache
def examples_runner() -> ModuleType:
    """``examples/run.py`` as a module, whose ``names()`` lists the examples."""
    spec = importlib.util.spec_from_file_location("examples_run", EXAMPLES / "run.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def example_names() -> list[str]:
    """Every ``examples/NAME`` with ``NAME.bpf.c`` and ``app.py``."""
    names: list[str] = examples_runner().names()
    return names


def bpf_source(name: str) -> Path:
    """``"minimal"`` → ``tests/bpf/minimal.bpf.c``; a path ending in ``.c`` as it is."""
    return Path(name) if name.endswith(".c") else BPF_SOURCES / f"{name}.bpf.c"


class BuildCache:
    """Builds under ``root``; ``compile=False`` only finds what is already there."""

    def __init__(self, root: Path, *, compile: bool = True) -> None:
        self.root = root
        self.compile = compile
        self._vmlinux_h: bytes | None = None

    @property
    def harness_dir(self) -> Path:
        """Where the libbpf harness is built (see ``libbpf_oracle.build_harness``)."""
        return self.root / "oracle"

    def missing_prerequisites(self) -> list[str]:
        """What this machine lacks to use the cache; empty when all is there."""
        if self.compile:
            return libbpf_oracle.missing_prerequisites()
        return [] if self.vmlinux_header().is_file() else [f"{self.vmlinux_header()}"]

    def vmlinux_header(self) -> Path:
        return self.root / "include" / "vmlinux.h"

    def built_vmlinux_header(self) -> Path:
        """bpftool's ``vmlinux.h`` of this kernel, generated if it is not there yet."""
        self._vmlinux_bytes()
        return self.vmlinux_header()

    def _vmlinux_bytes(self) -> bytes:
        """The ``vmlinux.h`` objects compile against: generated from this kernel's BTF
        when compiling (rewritten only if it changed), else the one found."""
        if self._vmlinux_h is None:
            header = self.vmlinux_header()
            if self.compile:
                with tempfile.TemporaryDirectory() as tmp:
                    fresh = libbpf_oracle.generate_vmlinux_h(Path(tmp)).read_bytes()
                if not header.is_file() or header.read_bytes() != fresh:
                    self._store(header, lambda out: out.write_bytes(fresh))
            elif not header.is_file():
                raise NotPrebuilt(f"{header} is missing: build on the host first")
            self._vmlinux_h = header.read_bytes()
        return self._vmlinux_h

    def _store(self, dest: Path, build: Callable[[Path], object]) -> None:
        """Build into a private name and rename: concurrent runs never see half a file."""
        dest.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=dest.parent, prefix=".build-") as tmp:
            out = Path(tmp) / dest.name
            build(out)
            os.replace(out, dest)

    def _cached(self, dest: Path, build: Callable[[Path], object]) -> Path:
        if dest.is_file():
            return dest
        if not self.compile:
            raise NotPrebuilt(
                f"{dest.name} was not built on the host (no compiler runs here)"
            )
        self._store(dest, build)
        return dest

    def bpf_object(self, source: Path, extra_flags: Sequence[str] = ()) -> Path:
        """``source`` compiled with clang for BPF, against this cache's ``vmlinux.h``."""
        flags = (*libbpf_oracle.BPF_CFLAGS, *extra_flags)
        key = _key(
            source.read_bytes(),
            "\0".join(flags).encode(),
            self._vmlinux_bytes(),
            _skelgen_headers(),
        )
        stem = source.name.removesuffix(".c")
        include_dirs = [self.vmlinux_header().parent, SKELGEN_INCLUDE]
        include_dirs += system_includes()

        def build(out: Path) -> None:
            built = libbpf_oracle.compile_bpf(
                source, out.parent, include_dirs, extra_flags
            )
            os.replace(built, out)

        return self._cached(self.root / "bpf" / key / f"{stem}.o", build)

    def example_skeleton(self, name: str) -> Path:
        """``examples/NAME/NAME.bpf.c`` through ``skelgen compile`` (its own
        vmlinux.h from this kernel's BTF, skelgen's headers) with no bpftool on
        PATH: the directory holding ``NAME_skel.py``."""
        source = EXAMPLES / name / f"{name}.bpf.c"
        headers = sorted(source.parent.glob("*.h"))
        key = _key(
            source.read_bytes(),
            *(h.read_bytes() for h in headers),
            _skelgen_headers(),
            _generator_fingerprint(),
            self._vmlinux_bytes(),  # stands for the kernel BTF skelgen reads
        )

        def build(out: Path) -> None:
            env = dict(os.environ, PATH=without_bpftool(os.environ.get("PATH", "")))
            assert shutil.which("bpftool", path=env["PATH"]) is None
            cmd = [sys.executable, "-m", "skelgen", "compile", str(source)]
            cmd += ["-o", str(out)]
            proc = subprocess.run(
                cmd, capture_output=True, text=True, env=env, check=False
            )
            if proc.returncode != 0:
                raise libbpf_oracle.OracleError(f"{' '.join(cmd)}:\n{proc.stderr}")

        module = self._cached(self.root / "examples" / key / f"{name}_skel.py", build)
        return module.parent

    def c_program(self, source: Path, *flags: str) -> Path:
        """``source`` compiled and linked by gcc for this machine."""
        all_flags = (*C_FLAGS, *flags)
        key = _key(source.read_bytes(), "\0".join(all_flags).encode())

        def build(out: Path) -> None:
            cmd = ["gcc", *all_flags, "-o", str(out), str(source)]
            proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if proc.returncode != 0:
                raise libbpf_oracle.OracleError(f"{' '.join(cmd)}:\n{proc.stderr}")

        return self._cached(self.root / "bin" / key / source.stem, build)

    def skeleton(self, obj: Path) -> Path:
        """The module ``skelgen`` generates from ``obj`` (``<name>_skel.py``)."""
        key = _key(obj.read_bytes(), _generator_fingerprint())

        def build(out: Path) -> None:
            cmd = [sys.executable, "-m", "skelgen", str(obj), "-o", str(out)]
            subprocess.run(cmd, check=True)

        name = f"{obj.name.removesuffix('.bpf.o')}_skel.py"
        return self._cached(self.root / "skel" / key / name, build)

    def linked_object(self, objects: Sequence[Path], name: str) -> Path:
        """``objects`` statically linked into ``name`` by ``bpftool gen object``."""
        key = _key(*(obj.read_bytes() for obj in objects))

        def build(out: Path) -> None:
            cmd = ["bpftool", "gen", "object", str(out), *map(str, objects)]
            proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if proc.returncode != 0:
                raise libbpf_oracle.OracleError(f"{' '.join(cmd)}:\n{proc.stderr}")

        return self._cached(self.root / "linked" / key / name, build)

    def subskeleton(self, obj: Path) -> Path:
        """The module ``skelgen --subskeleton`` generates from ``obj``."""
        key = _key(obj.read_bytes(), _generator_fingerprint())

        def build(out: Path) -> None:
            cmd = [sys.executable, "-m", "skelgen", "--subskeleton", str(obj)]
            subprocess.run([*cmd, "-o", str(out)], check=True)

        name = f"{obj.name.removesuffix('.bpf.o')}_subskel.py"
        return self._cached(self.root / "subskel" / key / name, build)

    def harness(self) -> Path:
        """The libbpf harness binary (built by gcc against the system libbpf)."""
        if self.compile:
            return libbpf_oracle.build_harness(self.harness_dir)
        path = libbpf_oracle.harness_path(self.harness_dir)
        if not path.is_file():
            raise NotPrebuilt(f"{path} was not built on the host")
        return path


def build_all(cache: BuildCache) -> list[Path]:
    """Everything the kernel tests build: each BPF source of the tests and examples
    and its generated module (the examples' through ``skelgen compile`` too), each C
    test program of ``tests/kernel``, the libbpf harness."""
    bpf = [*BPF_SOURCES.glob("*.bpf.c"), *EXAMPLES.glob("*/*.bpf.c")]
    built = [cache.bpf_object(source) for source in sorted(bpf)]
    built += [cache.skeleton(obj) for obj in built]
    built += [cache.example_skeleton(name) for name in example_names()]
    for app, libs in LINKED_OBJECTS.items():
        objects = [cache.bpf_object(bpf_source(n)) for n in (app, *libs)]
        built.append(
            cache.skeleton(cache.linked_object(objects, f"{app}_linked.bpf.o"))
        )
        built += [cache.subskeleton(cache.bpf_object(bpf_source(n))) for n in libs]
    for program in sorted((TESTS / "kernel").glob("*.c")):
        for flags in C_PROGRAM_VARIANTS.get(program.name, [()]):
            built.append(cache.c_program(program, *flags))
    built.append(cache.harness())
    return built


def copy_test_objects(cache: BuildCache, out_dir: Path) -> list[Path]:
    """Each BPF object of ``tests/bpf``, compiled as the tests compile it, copied
    to ``out_dir/<name>.bpf.o`` (the fuzzer's seeds); other objects there go."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in out_dir.glob("*.o"):
        stale.unlink()
    copies = []
    for source in sorted(BPF_SOURCES.glob("*.bpf.c")):
        copy = out_dir / cache.bpf_object(source).name
        shutil.copyfile(cache.bpf_object(source), copy)
        copies.append(copy)
    return copies


USAGE = f"""usage: {sys.argv[0]} CACHE_DIR               build what the kernel tests need
       {sys.argv[0]} CACHE_DIR --objects-to DIR  copy the tests/bpf objects to DIR"""

if __name__ == "__main__":
    arguments = sys.argv[1:]
    if len(arguments) == 1:
        for path in build_all(BuildCache(Path(arguments[0]).resolve())):
            print(path)
    elif len(arguments) == 3 and arguments[1] == "--objects-to":
        cache = BuildCache(Path(arguments[0]).resolve())
        for path in copy_test_objects(cache, Path(arguments[2])):
            print(path)
    else:
        sys.exit(USAGE)
