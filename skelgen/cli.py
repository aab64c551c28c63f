"""The ``skelgen`` command.

* ``skelgen prog.bpf.o -o prog_skel.py`` — a module from a compiled object;
* ``skelgen compile prog.bpf.c -o prog_skel.py [-- clang flags]`` — compile with
  clang against a vmlinux.h of the running kernel, then the same;
* ``skelgen vmlinux -o vmlinux.h`` — that header alone (no bpftool needed).

An object file literally named ``compile`` or ``vmlinux`` is given as
``./compile``.  Bad input gives one line on stderr and exit status 1 (after
clang's own diagnostics when a compile fails); outputs are written atomically,
so a failure never leaves a half-written file behind.
"""

from __future__ import annotations

import argparse
import errno
import os
import secrets
import stat
import sys
from collections.abc import Callable
from pathlib import Path

from skelgen_runtime.errors import BPFError

from . import __version__
from .compile import VMLINUX_BTF, CompileError, header_of_btf_file
from .ctypes_emit import GeneratorError
from .pipeline import ModuleSettings, module_from_object, module_from_source

SUBCOMMANDS = ("compile", "vmlinux")


def _add_generator_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--output", help="the module to write (default: stdout)")
    parser.add_argument("--name", help="object name (default: file name without .o)")
    parser.add_argument(
        "--no-embed",
        action="store_true",
        help="do not embed the object: open(object_path=...) reads it at run time",
    )
    parser.add_argument(
        "--object-path",
        metavar="PATH",
        help="with --no-embed (implied): where open() reads the object by default"
        " (a relative path is relative to the module's directory)",
    )
    parser.add_argument(
        "--type",
        action="append",
        default=[],
        metavar="NAME",
        help="also emit the named C type (repeatable)",
    )
    parser.add_argument(
        "--event-type",
        action="append",
        default=[],
        metavar="MAP=TYPE",
        help="decode the records of ring/perf buffer MAP as C type TYPE (repeatable)",
    )
    parser.add_argument(
        "--all-types", action="store_true", help="emit every named type of the object"
    )
    parser.add_argument(
        "--subskeleton",
        action="store_true",
        help="generate a subskeleton: typed access to this BPF library's globals, maps"
        " and programs inside an object linked with it (nothing embedded)",
    )


def _btf_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--btf",
        default=VMLINUX_BTF,
        metavar="PATH",
        help=f"kernel BTF: raw, or an ELF file with .BTF (default: {VMLINUX_BTF})",
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="skelgen",
        description="Generate a typed Python skeleton from a compiled eBPF object.",
        epilog="Also: 'skelgen compile SRC.bpf.c ...' (compile, then generate) and"
        " 'skelgen vmlinux ...' (write vmlinux.h); see 'skelgen compile --help'.",
    )
    parser.add_argument("object", help="the BPF object (clang -g -O2 -target bpf)")
    _add_generator_options(parser)
    parser.add_argument("--version", action="version", version=f"skelgen {__version__}")
    return parser


def _compile_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="skelgen compile",
        description="Compile a BPF C source with clang against a vmlinux.h of the"
        " kernel's BTF (no bpftool needed), then generate its skeleton.",
        epilog="Flags after '--' go to clang (e.g. -- -I include -DDEBUG).",
    )
    parser.add_argument("source", help="the BPF C source (prog.bpf.c)")
    _add_generator_options(parser)
    parser.add_argument(
        "--clang",
        metavar="PATH",
        help="the compiler (default: $CLANG, clang-19, clang)",
    )
    _btf_option(parser)
    parser.add_argument(
        "--keep-object",
        metavar="PATH",
        help="write the compiled object there (default: a temporary file)",
    )
    return parser


def _vmlinux_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="skelgen vmlinux",
        description="Write the C header of a BTF (vmlinux.h), as"
        " 'bpftool btf dump file BTF format c' does.",
    )
    _btf_option(parser)
    parser.add_argument("-o", "--output", help="the header to write (default: stdout)")
    return parser


def _settings(args: argparse.Namespace) -> ModuleSettings:
    event_types: dict[str, str] = {}
    for item in args.event_type:
        map_name, sep, type_name = item.partition("=")
        if not sep or not map_name or not type_name:
            raise BPFError(f"--event-type {item!r}: expected MAP=TYPE")
        event_types[map_name] = type_name
    return ModuleSettings(
        name=args.name,
        embed=not args.no_embed and args.object_path is None,
        object_path=args.object_path,
        types=args.type,
        all_types=args.all_types,
        event_types=event_types,
        subskeleton=args.subskeleton,
    )


def run(args: argparse.Namespace) -> None:
    settings = _settings(args)
    _write(args.output, lambda: module_from_object(Path(args.object), settings))


def run_compile(args: argparse.Namespace, clang_flags: list[str]) -> None:
    settings = _settings(args)
    keep = None if args.keep_object is None else Path(args.keep_object)
    _write(
        args.output,
        lambda: module_from_source(
            Path(args.source),
            settings,
            clang=args.clang,
            btf_path=args.btf,
            clang_flags=clang_flags,
            keep_object=keep,
        ),
    )


def run_vmlinux(args: argparse.Namespace) -> None:
    _write(args.output, lambda: header_of_btf_file(args.btf))


def _write(output: str | None, produce: Callable[[], str]) -> None:
    if output is None:
        sys.stdout.write(produce())
    else:
        write_atomically(Path(output), produce)


def write_atomically(path: Path, produce: Callable[[], str]) -> None:
    """Write what ``produce()`` returns to ``path`` in one step; a directory that
    cannot take the file is found out before ``produce`` runs.  An output that is
    not a regular file (``/dev/null``, ``/dev/stdout``, a FIFO) is written as it is:
    renaming over it would replace the device or pipe with a file."""
    try:
        regular = stat.S_ISREG(path.stat().st_mode)
    except FileNotFoundError:
        regular = True
    if not regular:
        with path.open("w", encoding="utf-8") as f:
            f.write(produce())
        return
    directory = path.parent if str(path.parent) else Path(".")
    try:
        fd, tmp = _create_beside(directory, path.name)
    except OSError as exc:  # name the output, not the temporary file
        raise OSError(exc.errno, exc.strerror, str(path)) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(produce())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def _create_beside(directory: Path, name: str) -> tuple[int, str]:
    """A new temporary file in ``directory``: (fd, path).  Created with mode 0666
    as ``open(path, "w")`` would, so the kernel applies the umask (and a default
    ACL) — not mkstemp's 0600, which would make every output private."""
    for _ in range(100):
        tmp = os.path.join(directory, f".{name}.{secrets.token_hex(4)}.tmp")
        try:
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary name", str(directory))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    command = argv[0] if argv and argv[0] in SUBCOMMANDS else None
    if command == "compile":
        ours, clang_flags = _split_at_dashes(argv[1:])
        args = _compile_parser().parse_args(ours)
    elif command == "vmlinux":
        args = _vmlinux_parser().parse_args(argv[1:])
    else:
        args = _parser().parse_args(argv)
    try:
        if command == "compile":
            run_compile(args, clang_flags)
        elif command == "vmlinux":
            run_vmlinux(args)
        else:
            run(args)
    except CompileError as exc:
        sys.stderr.write(exc.diagnostics)
        print(f"skelgen: {exc}", file=sys.stderr)
        return 1
    except (BPFError, GeneratorError) as exc:
        print(f"skelgen: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(
            f"skelgen: {exc.filename or args.output}: {exc.strerror or exc}",
            file=sys.stderr,
        )
        return 1
    return 0


def _split_at_dashes(argv: list[str]) -> tuple[list[str], list[str]]:
    """Split ``A -- B`` into our arguments and the compiler's."""
    if "--" not in argv:
        return argv, []
    at = argv.index("--")
    return argv[:at], argv[at + 1 :]
