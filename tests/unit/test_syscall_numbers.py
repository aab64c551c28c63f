"""The runtime's own syscall numbers against python-ptrace's tables."""

from __future__ import annotations

import importlib

import pytest
from skelgen_runtime.sys.numbers import syscall_numbers

# uname's machine → python-ptrace's table
PTRACE_TABLES = {
    "x86_64": "x86_64",
    "aarch64": "aarch64",
    "riscv64": "riscv64",
    "ppc64le": "powerpc64",
}


@pytest.mark.parametrize("machine", sorted(PTRACE_TABLES))
def test_numbers_match_python_ptrace(machine: str) -> None:
    table = importlib.import_module(f"ptrace.syscall.linux.{PTRACE_TABLES[machine]}")
    by_name = {name: number for number, name in table.SYSCALL_NAMES.items()}
    assert syscall_numbers(machine) == (by_name["bpf"], by_name["perf_event_open"])


def test_unknown_architecture_is_one_clear_error() -> None:
    with pytest.raises(OSError, match="no syscall table for architecture 'pdp11'"):
        syscall_numbers("pdp11")
