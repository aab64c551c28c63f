"""The ``skelgen`` command: ``skelgen prog.bpf.o -o prog_skel.py``.

Bad input gives one line on stderr and a non-zero exit; the output file is written
atomically, so a failure never leaves a half-written module behind.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from skelgen_runtime.errors import BPFError
from skelgen_runtime.obj.elf import object_name_from_path, read_object

from . import __version__
from .ctypes_emit import GeneratorError
from .module import Options, generate
from .naming import identifier


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="skelgen",
        description="Generate a typed Python skeleton from a compiled eBPF object.",
    )
    parser.add_argument("object", help="the BPF object (clang -g -O2 -target bpf)")
    parser.add_argument("-o", "--output", help="the module to write (default: stdout)")
    parser.add_argument("--name", help="object name (default: file name without .o)")
    parser.add_argument(
        "--no-embed",
        action="store_true",
        help="read the object from its path at run time instead of embedding it",
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
    parser.add_argument("--version", action="version", version=f"skelgen {__version__}")
    return parser


def run(args: argparse.Namespace) -> None:
    path = Path(args.object)
    try:
        elf = path.read_bytes()
    except OSError as exc:
        raise BPFError(f"{path}: {exc.strerror or exc}") from None
    if args.name is not None and identifier(args.name) != args.name:
        raise BPFError(f"--name {args.name!r} is not a Python identifier")
    name = args.name or object_name_from_path(path)
    event_types: dict[str, str] = {}
    for item in args.event_type:
        map_name, sep, type_name = item.partition("=")
        if not sep or not map_name or not type_name:
            raise BPFError(f"--event-type {item!r}: expected MAP=TYPE")
        event_types[map_name] = type_name
    spec = read_object(elf, name, origin=str(path))
    options = Options(
        source_name=path.name,
        embed=not args.no_embed,
        object_path=str(path.resolve()) if args.no_embed else None,
        extra_types=args.type,
        all_types=args.all_types,
        event_types=event_types,
    )
    source = generate(spec, elf, options)
    if args.output is None:
        sys.stdout.write(source)
    else:
        write_atomically(Path(args.output), source)


def write_atomically(path: Path, text: str) -> None:
    directory = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        run(args)
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
