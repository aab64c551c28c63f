"""Pinning by name (``LIBBPF_PIN_BY_NAME``) made safe: a map name cannot lead out of
``pin_root``, periods become ``_`` as in libbpf, a program or link pinned where a map
is expected is named as such, and a failed load leaves nothing on disk."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import open_fds
from skelgen_runtime import BPFObject, LoadError, Map, MapError, ObjectError
from skelgen_runtime.sys import commands as cmd

pytestmark = pytest.mark.usefixtures("root_only")
BPFFS = Path("/sys/fs/bpf")
PINNED = b"pinned_counts"  # the map of maps_fds.bpf.c pinned by name


@pytest.fixture
def pin_root() -> Iterator[Path]:
    root = BPFFS / f"skelgen-test-{uuid.uuid4().hex[:12]}"
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def maps_fds(build_bpf: Callable[[str], Path]) -> Path:
    return build_bpf("maps_fds")


def renamed(obj: Path, out: Path, name: bytes) -> Path:
    """``obj`` with the pinned map renamed to ``name`` (same length) everywhere:
    symbol and BTF strings."""
    assert len(name) == len(PINNED)
    data = obj.read_bytes()
    assert data.count(PINNED + b"\0") >= 2
    out.write_bytes(data.replace(PINNED + b"\0", name + b"\0"))
    return out


@pytest.mark.parametrize("name", [b"../../etc/xy", b"/tmp/escape_x", b"a/b/c/d/e/fg"])
def test_a_name_leading_out_of_pin_root_is_refused(
    maps_fds: Path, tmp_path: Path, pin_root: Path, name: bytes
) -> None:
    hostile = renamed(
        maps_fds, tmp_path / "hostile.bpf.o", name.ljust(len(PINNED), b"_")
    )
    before = open_fds()
    with pytest.raises(ObjectError, match="pinned by name, but its name is no file"):
        BPFObject.open(hostile, pin_root=str(pin_root))
    assert not pin_root.exists()
    assert not Path("/etc/xy").exists() and not Path("/tmp/escape_x").exists()
    assert open_fds() == before


def test_periods_in_a_pin_name_become_underscores(
    maps_fds: Path, tmp_path: Path, pin_root: Path
) -> None:
    dotted = renamed(maps_fds, tmp_path / "dotted.bpf.o", b"pinned.counts")
    with BPFObject.open(dotted, pin_root=str(pin_root)) as obj:
        obj.load()
        counts = obj.maps["pinned.counts"]
        assert counts.pin_path == str(pin_root / "pinned_counts")
        counts[1] = 5
    with Map.from_pinned(str(pin_root / "pinned_counts")) as reopened:
        assert reopened[1] == 5


@pytest.mark.parametrize("kind", ["program", "link"])
def test_a_program_or_link_at_a_map_pin_is_named(
    maps_fds: Path, pin_root: Path, kind: str
) -> None:
    path = pin_root / "pinned_counts"
    with BPFObject.open(maps_fds, pin_root=str(pin_root / "other")) as owner:
        owner.load()
        pin_root.mkdir(exist_ok=True)  # made by the load above
        program = owner.programs["pinned_add"]
        if kind == "program":
            cmd.obj_pin(program.fd, str(path))
        else:
            with program.attach_raw_tracepoint("sys_enter") as link:
                link.pin(str(path))
    before = open_fds()
    with (
        BPFObject.open(maps_fds, pin_root=str(pin_root)) as obj,
        pytest.raises(
            LoadError,
            match=rf"map pinned_counts: cannot reuse the pin: {path} holds a {kind}, "
            "not a map",
        ),
    ):
        obj.load()
    with pytest.raises(MapError, match=f"holds a {kind}, not a map"):
        Map.from_pinned(str(path))
    assert open_fds() == before


def test_pin_root_not_on_bpffs_leaves_no_directory(
    maps_fds: Path, tmp_path: Path
) -> None:
    pin_root = tmp_path / "made" / "by" / "load"
    before = open_fds()
    with (
        BPFObject.open(maps_fds, pin_root=str(pin_root)) as obj,
        pytest.raises(LoadError, match=f"{tmp_path} is not on bpffs"),
    ):
        obj.load()
    assert list(tmp_path.iterdir()) == []
    assert open_fds() == before


def test_a_failed_load_removes_its_pins_and_directories(
    maps_fds: Path, pin_root: Path
) -> None:
    nested = pin_root / "app" / "maps"
    with BPFObject.open(maps_fds, pin_root=str(nested)) as obj:
        obj.programs["tail_a"].autoload = False  # `jump` names it: the load fails
        with pytest.raises(LoadError, match="tail_a"):
            obj.load()
    assert not pin_root.exists()


def test_pin_root_is_created_inside_bpffs(maps_fds: Path, pin_root: Path) -> None:
    with BPFObject.open(maps_fds, pin_root=str(pin_root / "app")) as obj:
        obj.load()
        assert (pin_root / "app" / "pinned_counts").exists()
    assert os.path.exists(pin_root / "app" / "pinned_counts")  # as libbpf: it stays
