"""freplace: a BPF program that replaces a global function of another, loaded one.

``freplace_target.bpf.c``'s ``call_constant`` returns ``get_constant(41)`` (42);
``freplace_ext.bpf.c`` replaces ``get_constant`` with one that returns ``base + 100``
and counts its calls.  Kernels that refuse tracing-family loads (EPERM, as 6.18 here
does) get the one-line error checked; elsewhere (the VM matrix: ``make test-kernels
TESTS=tests/kernel/test_freplace.py``) the replacement is seen to run and to go away.
"""

from __future__ import annotations

import errno
from collections.abc import Callable
from pathlib import Path

import pytest
from attach_support import read_global
from conftest import open_fds
from skelgen_runtime import BPFError, BPFObject, LoadError
from skelgen_runtime.errors import LoadPermissionError

pytestmark = pytest.mark.usefixtures("root_only")
PACKET = bytes(64)  # what the tc program call_constant runs on


@pytest.mark.parametrize("by", ["program", "fd"])
def test_freplace_replaces_a_function_or_is_refused_clearly(
    build_bpf: Callable[[str], Path], by: str
) -> None:
    fds = open_fds()
    with BPFObject.open(build_bpf("freplace_target")) as target:
        target.load()
        call = target.programs["call_constant"]
        assert call.test_run(PACKET).retval == 42
        with BPFObject.open(build_bpf("freplace_ext")) as ext:
            replacement = ext.programs["new_get_constant"]
            replacement.set_attach_target(
                call if by == "program" else call.fd, "get_constant"
            )
            try:
                ext.load()
            except LoadPermissionError as exc:
                assert exc.errno == errno.EPERM and exc.program == "new_get_constant"
                message = str(exc)
                assert "(freplace/get_constant)" in message and "\n" not in message
                pytest.skip(f"this kernel refuses freplace loads: {message}")
            links = ext.attach()  # auto-attach: the target was set before load
            assert links["new_get_constant"].kind == "freplace"
            assert [call.test_run(PACKET).retval for _ in range(3)] == [141] * 3
            assert read_global(ext, "replaced_calls") == 3
            ext.detach()
            assert call.test_run(PACKET).retval == 42
    assert open_fds() == fds


def test_freplace_without_a_target_program_says_how_to_give_one(
    build_bpf: Callable[[str], Path],
) -> None:
    with (
        BPFObject.open(build_bpf("freplace_ext")) as ext,
        pytest.raises(LoadError, match=r"set_attach_target\(program, 'get_constant'\)"),
    ):
        ext.load()


def test_a_target_without_the_function_is_a_load_error(
    build_bpf: Callable[[str], Path],
) -> None:
    with BPFObject.open(build_bpf("freplace_target")) as target:
        target.load()
        with BPFObject.open(build_bpf("freplace_ext")) as ext:
            ext.programs["new_get_constant"].set_attach_target(
                target.programs["call_constant"], "no_such_function"
            )
            with pytest.raises(LoadError, match="has no function 'no_such_function'"):
                ext.load()
            with pytest.raises(BPFError, match="needs the name"):
                ext.programs["new_get_constant"].set_attach_target(3)
