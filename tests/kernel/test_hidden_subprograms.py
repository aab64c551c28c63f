"""Hidden global subprograms are loaded as static functions, as libbpf loads them.

``hidden_subprog.bpf.c`` has subprograms that write through a pointer argument
without a NULL check: the verifier accepts that only with the caller's context,
which it uses for static functions.  libbpf, through the C harness, is the oracle.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from attach_support import loaded
from libbpf_oracle import run_libbpf
from skelgen_runtime import BPFObject, LoadError
from skelgen_runtime.btf import types as bt

pytestmark = pytest.mark.usefixtures("root_only")


def test_hidden_subprograms_load_and_run_as_with_libbpf(
    build_bpf: Callable[[str], Path],
) -> None:
    path = build_bpf("hidden_subprog")
    with loaded(path, without=["with_global"]) as obj:
        ours = obj.programs["with_hidden"].test_run().retval
    libbpf = run_libbpf(path, run=["with_hidden"], load_only=["with_hidden"])
    assert libbpf.load_ok, libbpf.stderr
    assert ours == libbpf.retvals["with_hidden"] == 42 + 1000


def test_visible_global_subprogram_is_verified_alone(
    build_bpf: Callable[[str], Path],
) -> None:
    # The same code without __hidden: both loaders must be refused.
    path = build_bpf("hidden_subprog")
    with (
        pytest.raises(LoadError, match="fill_global") as info,
        loaded(path, without=["with_hidden"]),
    ):
        pass
    libbpf = run_libbpf(path, load_only=["with_global"])
    assert not libbpf.load_ok
    reasons = (
        "invalid mem access 'mem_or_null'",  # checked alone, the pointer may be NULL
        "is not supported yet",  # before 5.12: no pointer arguments at all
    )
    [reason] = [r for r in reasons if r in libbpf.stderr]
    assert reason in info.value.log


def test_only_hidden_global_functions_become_static(
    build_bpf: Callable[[str], Path],
) -> None:
    with BPFObject.open(build_bpf("hidden_subprog")) as obj:
        btf = obj.spec.btf
        linkage = {
            item.name: item.linkage for item in btf.types if isinstance(item, bt.Func)
        }
    assert linkage == {
        "fill_hidden": bt.FuncLinkage.STATIC,  # __hidden
        "fill_weak_hidden": bt.FuncLinkage.STATIC,  # __weak __hidden
        "fill_global": bt.FuncLinkage.GLOBAL,
        "with_hidden": bt.FuncLinkage.GLOBAL,  # programs keep theirs
        "with_global": bt.FuncLinkage.GLOBAL,
    }
