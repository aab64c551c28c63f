"""Syscall numbers for this machine's architecture, from python-ptrace's tables."""

from __future__ import annotations

import importlib
import platform

# platform.machine() spelling → module name in ptrace.syscall.linux
_TABLES = {
    "x86_64": "x86_64",
    "amd64": "x86_64",
    "aarch64": "aarch64",
    "arm64": "aarch64",
    "riscv64": "riscv64",
    "ppc64le": "powerpc64",
    "ppc64": "powerpc64",
}


def _syscall_numbers() -> dict[str, int]:
    machine = platform.machine()
    table = _TABLES.get(machine)
    if table is None:
        raise OSError(f"skelgen_runtime: no syscall table for architecture {machine!r}")
    module = importlib.import_module(f"ptrace.syscall.linux.{table}")
    names: dict[int, str] = module.SYSCALL_NAMES
    return {name: number for number, name in names.items()}


_NUMBERS = _syscall_numbers()
NR_BPF = _NUMBERS["bpf"]
NR_PERF_EVENT_OPEN = _NUMBERS["perf_event_open"]
