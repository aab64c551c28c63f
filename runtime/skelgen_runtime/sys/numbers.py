"""The numbers of the two syscalls the runtime makes, for this machine's architecture.

Two numbers per architecture, from the kernel's syscall tables (``bpf`` and
``perf_event_open`` never change once assigned); a test checks them against
python-ptrace's tables.  A table this small costs nothing to import, where a
whole syscall-table package costs more than the interpreter's own start.
"""

from __future__ import annotations

import os

# uname's machine → (bpf, perf_event_open)
_NUMBERS: dict[str, tuple[int, int]] = {
    "x86_64": (321, 298),
    "amd64": (321, 298),
    "aarch64": (280, 241),  # the generic table (include/uapi/asm-generic/unistd.h)
    "arm64": (280, 241),
    "riscv64": (280, 241),
    "loongarch64": (280, 241),
    "ppc64le": (361, 319),
    "ppc64": (361, 319),
    "s390x": (351, 331),
}


def syscall_numbers(machine: str) -> tuple[int, int]:
    """(bpf, perf_event_open) on ``machine``, as uname spells it."""
    numbers = _NUMBERS.get(machine)
    if numbers is None:
        raise OSError(f"skelgen_runtime: no syscall table for architecture {machine!r}")
    return numbers


NR_BPF, NR_PERF_EVENT_OPEN = syscall_numbers(os.uname().machine)
