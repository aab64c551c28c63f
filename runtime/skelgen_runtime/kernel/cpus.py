"""Which CPUs the kernel counts: per-CPU map values and perf buffers are laid out by
the *possible* CPUs; events only come from *online* ones."""

from __future__ import annotations

import functools

POSSIBLE = "/sys/devices/system/cpu/possible"
ONLINE = "/sys/devices/system/cpu/online"


def parse_cpu_list(text: str) -> list[int]:
    """The kernel's CPU list format: ``"0-3,8,10-11"`` → ``[0, 1, 2, 3, 8, 10, 11]``."""
    cpus: list[int] = []
    for part in text.strip().split(","):
        if not part:
            continue
        low, _, high = part.partition("-")
        cpus.extend(range(int(low), int(high or low) + 1))
    return cpus


def _read(path: str) -> list[int]:
    with open(path) as f:
        return parse_cpu_list(f.read())


@functools.cache
def possible_cpus() -> int:
    """How many CPUs per-CPU maps hold a value for (the highest possible CPU + 1)."""
    return max(_read(POSSIBLE)) + 1


def online_cpus() -> list[int]:
    return _read(ONLINE)
