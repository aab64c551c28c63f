"""From files to module source: what ``skelgen``, ``skelgen compile`` and the
build hook (:mod:`skelgen.hatch`) share.

``module_from_object`` generates from a compiled object, ``module_from_source``
compiles a BPF C source with :mod:`.compile` first; neither writes the module.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from skelgen_runtime.errors import BPFError
from skelgen_runtime.obj.elf import object_name_from_path, read_object

from .compile import VMLINUX_BTF, compile_bpf
from .naming import identifier


@dataclass(frozen=True)
class ModuleSettings:
    """The generator's options (``--name``, ``--no-embed``, ``--object-path``,
    ``--type``, ``--all-types``, ``--event-type``, ``--subskeleton``)."""

    name: str | None = None
    embed: bool = True
    object_path: str | None = None  # the default path of a --no-embed module
    types: Sequence[str] = ()
    all_types: bool = False
    event_types: Mapping[str, str] = field(default_factory=dict)
    subskeleton: bool = False  # --subskeleton


def module_from_object(path: Path, settings: ModuleSettings) -> str:
    """The module generated from the object at ``path``."""
    from .module import Options, generate  # black is slow to import: only here

    try:
        elf = path.read_bytes()
    except OSError as exc:
        raise BPFError(f"{path}: {exc.strerror or exc}") from None
    name = settings.name
    if name is not None and identifier(name) != name:
        raise BPFError(f"--name {name!r} is not a Python identifier")
    spec = read_object(elf, name or object_name_from_path(path), origin=str(path))
    options = Options(
        source_name=path.name,
        embed=settings.embed,
        object_path=settings.object_path,
        extra_types=list(settings.types),
        all_types=settings.all_types,
        event_types=dict(settings.event_types),
        subskeleton=settings.subskeleton,
    )
    return generate(spec, elf, options)


def module_from_source(
    source: Path,
    settings: ModuleSettings,
    *,
    clang: str | None = None,
    btf_path: str = VMLINUX_BTF,
    clang_flags: Sequence[str] = (),
    keep_object: Path | None = None,
    cwd: Path | None = None,
) -> str:
    """Compile ``source`` (clang's warnings go to stderr), then generate the
    module, named after the source wherever the object is kept.  ``cwd``: where
    clang runs, which relative paths in ``clang_flags`` are relative to."""
    if not settings.embed and keep_object is None:
        raise BPFError("--no-embed needs --keep-object: the module reads the object")
    object_name = source.name.removesuffix(".c") + ".o"
    if settings.name is None:
        settings = replace(settings, name=object_name_from_path(object_name))
    with tempfile.TemporaryDirectory(prefix="skelgen-") as scratch:
        obj = keep_object or Path(scratch) / object_name
        sys.stderr.write(
            compile_bpf(
                source,
                obj,
                clang=clang,
                btf_path=btf_path,
                extra_flags=clang_flags,
                cwd=cwd,
            )
        )
        return module_from_object(obj, settings)
