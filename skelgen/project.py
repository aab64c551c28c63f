"""The ``[tool.skelgen]`` table of a ``pyproject.toml``: the BPF sources a Python
project builds into modules.

    [tool.skelgen]
    clang = "clang-19"                    # optional: --clang
    btf = "/sys/kernel/btf/vmlinux"       # optional: --btf

    [[tool.skelgen.modules]]
    source = "bpf/execcount.bpf.c"        # relative to the project
    output = "execcount/execcount_skel.py"
    event-types = { events = "event" }    # optional: name, types, all-types,
                                          # event-types, clang-flags

Every key is checked, so a misspelled one is an error, not an ignored option.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from skelgen_runtime.errors import BPFError

from .compile import VMLINUX_BTF
from .pipeline import ModuleSettings

TABLE = "[tool.skelgen]"


@dataclass(frozen=True)
class ModuleEntry:
    """One ``[[tool.skelgen.modules]]`` entry; paths relative to the project."""

    source: str
    output: str
    settings: ModuleSettings
    clang_flags: tuple[str, ...] = ()


@dataclass(frozen=True)
class ProjectConfig:
    modules: tuple[ModuleEntry, ...]
    clang: str | None = None
    btf: str = VMLINUX_BTF


def project_config(pyproject: Mapping[str, Any]) -> ProjectConfig:
    """The ``[tool.skelgen]`` table of a parsed ``pyproject.toml``."""
    table = pyproject.get("tool", {}).get("skelgen")
    if not isinstance(table, dict):
        raise BPFError(f"pyproject.toml has no {TABLE} table")
    _known_keys(table, TABLE, {"clang", "btf", "modules"})
    entries = table.get("modules")
    if not isinstance(entries, list) or not entries:
        raise BPFError(
            f"{TABLE} modules: expected a list of tables ([[tool.skelgen.modules]])"
        )
    modules = tuple(_module(entry, i) for i, entry in enumerate(entries))
    outputs = [m.output for m in modules]
    for output in outputs:
        if outputs.count(output) > 1:
            raise BPFError(f"{TABLE} modules: two modules are written to {output}")
    return ProjectConfig(
        modules,
        clang=_optional(table, "clang", str, TABLE),
        btf=_optional(table, "btf", str, TABLE) or VMLINUX_BTF,
    )


def _module(entry: object, index: int) -> ModuleEntry:
    where = f"{TABLE} modules[{index}]"
    if not isinstance(entry, dict):
        raise BPFError(f"{where}: expected a table")
    _known_keys(
        entry,
        where,
        {
            "source",
            "output",
            "name",
            "types",
            "all-types",
            "event-types",
            "clang-flags",
        },
    )
    source = _relative_path(entry, "source", where)
    output = _relative_path(entry, "output", where)
    if not output.endswith(".py"):
        raise BPFError(f"{where} output: {output!r} is not a .py file")
    event_types = _optional(entry, "event-types", dict, where) or {}
    if not all(isinstance(v, str) for v in event_types.values()):
        raise BPFError(f'{where} event-types: expected MAP = "TYPE" strings')
    settings = ModuleSettings(
        name=_optional(entry, "name", str, where),
        types=tuple(_strings(entry, "types", where)),
        all_types=_optional(entry, "all-types", bool, where) or False,
        event_types=event_types,
    )
    return ModuleEntry(
        source, output, settings, tuple(_strings(entry, "clang-flags", where))
    )


def _known_keys(table: Mapping[str, Any], where: str, known: set[str]) -> None:
    unknown = sorted(set(table) - known)
    if unknown:
        raise BPFError(
            f"{where}: unknown key {unknown[0]!r} (known: {', '.join(sorted(known))})"
        )


def _optional(table: Mapping[str, Any], key: str, kind: type[Any], where: str) -> Any:
    value = table.get(key)
    if value is not None and not isinstance(value, kind):
        raise BPFError(f"{where} {key}: expected {_KIND_NAMES[kind]}, got {value!r}")
    return value


def _strings(table: Mapping[str, Any], key: str, where: str) -> list[str]:
    value = _optional(table, key, list, where) or []
    if not all(isinstance(item, str) for item in value):
        raise BPFError(f"{where} {key}: expected a list of strings")
    return value


def _relative_path(table: Mapping[str, Any], key: str, where: str) -> str:
    value = _optional(table, key, str, where)
    if value is None:
        raise BPFError(f"{where}: {key} is missing")
    path = PurePosixPath(value)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise BPFError(
            f"{where} {key}: {value!r} is not a relative path inside the project"
        )
    return str(path)


_KIND_NAMES = {str: "a string", bool: "true or false", list: "a list", dict: "a table"}
