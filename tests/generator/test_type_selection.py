"""Which types a module holds, typed ring buffers, and the import-time size check.

``tests/bpf/types_select.bpf.c``: ``used`` is a global's type, ``event`` a ring
buffer's value; ``arg_only``, ``arg_other``/``arg_other_t`` and ``only_enum`` are
in BTF only as a global function's parameters.
"""

from __future__ import annotations

import ctypes
import subprocess
import sys
import typing
from collections.abc import Callable
from pathlib import Path

import pytest
from generated import generate, import_file

UNREACHABLE = {"arg_only", "arg_other", "arg_other_t", "only_enum"}


def _skelgen(obj: Path, out: Path, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "skelgen", str(obj), "-o", str(out), *options],
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture(scope="module")
def select_obj(build_bpf: Callable[[str], Path]) -> Path:
    return build_bpf("types_select")


@pytest.mark.parametrize(
    ("options", "present"),
    [
        ((), set()),
        (("--type", "arg_only"), {"arg_only"}),
        (
            ("--type", "arg_only", "--type", "arg_other_t"),
            {"arg_only", "arg_other", "arg_other_t"},
        ),
        (("--all-types",), UNREACHABLE),
    ],
    ids=["reachable", "one-type", "repeated-type", "all-types"],
)
def test_types_emitted(
    select_obj: Path, tmp_path: Path, options: tuple[str, ...], present: set[str]
) -> None:
    out = tmp_path / "select_skel.py"
    proc = _skelgen(select_obj, out, *options)
    assert proc.returncode == 0, proc.stderr
    module = import_file(out)
    assert {n for n in UNREACHABLE if hasattr(module, n)} == present
    assert hasattr(module, "used") and hasattr(module, "event")
    if "only_enum" in present:
        assert module.only_enum.ONLY_B == 2
    if "arg_other_t" in present:
        assert module.arg_other_t is module.arg_other


def test_unknown_type_is_one_line_error(select_obj: Path, tmp_path: Path) -> None:
    proc = _skelgen(select_obj, tmp_path / "x.py", "--type", "no_such_type")
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1 and "no_such_type" in proc.stderr
    assert not (tmp_path / "x.py").exists()


def test_ring_buffer_is_typed_by_its_value(select_obj: Path, tmp_path: Path) -> None:
    out = tmp_path / "select_skel.py"
    assert _skelgen(select_obj, out).returncode == 0
    module = import_file(out)
    hints = typing.get_type_hints(module.TypesSelectBpfMaps, vars(module))
    assert typing.get_origin(hints["events"]) is module.RingBuf
    assert typing.get_args(hints["events"]) == (module.event,)
    assert module.TypesSelectBpf._maps_["events"][2] is module.event  # decoded as event


def test_import_fails_loudly_when_a_size_disagrees(
    select_obj: Path, tmp_path: Path
) -> None:
    out = tmp_path / "select_skel.py"
    assert _skelgen(select_obj, out).returncode == 0
    source = out.read_text()
    # The recorded size is wrong...
    recorded = tmp_path / "recorded_skel.py"
    body, sizes = source.split("\ncheck_sizes(")
    recorded.write_text(
        f"{body}\ncheck_sizes({sizes.replace('event: 20', 'event: 24')}"
    )
    with pytest.raises(ImportError, match=r"event: 20 != 24"):
        import_file(recorded)
    # ... or this host lays a field out differently from BTF.
    layout = tmp_path / "layout_skel.py"
    layout.write_text(
        source.replace('("pid", ctypes.c_int32)', '("pid", ctypes.c_int64)', 1)
    )
    with pytest.raises(ImportError, match=r"event: 24 != 20"):
        import_file(layout)


def test_anonymous_types_are_named_after_where_they_are_used(
    build_bpf: Callable[[str], Path], tmp_path: Path
) -> None:
    out = tmp_path / "edge_skel.py"
    assert _skelgen(build_bpf("types_edge"), out).returncode == 0
    module = import_file(out)
    hints = typing.get_type_hints(module.TypesEdgeBpfMaps, vars(module))
    assert typing.get_args(hints["anon_value_map"]) == (
        int,
        module.anon_value_map_value,
    )
    bss = module.TypesEdgeBpfBss_2  # struct TypesEdgeBpfBss took the plain name
    assert bss.anon_bss.size == ctypes.sizeof(module.TypesEdgeBpfBss_2_anon_bss)
    assert module.deep.lvl1.size == 2 * ctypes.sizeof(module.deep_lvl1)
    assert module.flat_clash._anonymous_ == ("_anon0", "_anon1")
    assert module.twice_b_t is module.twice_a_t  # two typedefs of one anonymous struct


def test_asking_for_more_types_renames_nothing(
    build_bpf: Callable[[str], Path], tmp_path: Path
) -> None:
    obj = build_bpf("types_names")  # struct, union, enum and typedefs named "dup"...
    _, reachable = generate(obj, tmp_path / "reachable")
    _, everything = generate(obj, tmp_path / "all", all_types=True)
    assert set(reachable.types.classes) < set(everything.types.classes)
    assert reachable.types.names.items() <= everything.types.names.items()
