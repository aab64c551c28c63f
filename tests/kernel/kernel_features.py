"""Tests on kernels that lack what a test needs.  A probe of the runtime decides
(never a version list); the load must then fail with the one-line error that names
the feature, and the test skips with that reason."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import pytest
from skelgen_runtime import BPFError
from skelgen_runtime.features.programs import has_prog_type
from skelgen_runtime.features.requirements import PROG_TYPES, Requirement
from skelgen_runtime.uapi.bpf import ProgType

T = TypeVar("T")


def load_or_lacking(
    present: bool, requirement: Requirement, load: Callable[[], T]
) -> T:
    """``load()``'s result where the kernel has the feature; else check that ``load()``
    fails saying ``requirement`` in one line, and skip."""
    if present:
        return load()
    with pytest.raises(BPFError) as info:
        load()
    message = str(info.value)
    assert requirement.message() in message and "\n" not in message
    pytest.skip(f"the kernel lacks it, and the load says so: {message}")


def with_syscall_programs(load: Callable[[], T]) -> T:
    """For objects whose programs are SEC("syscall") ones run with test_run()."""
    return load_or_lacking(
        has_prog_type(ProgType.SYSCALL), PROG_TYPES[ProgType.SYSCALL], load
    )
