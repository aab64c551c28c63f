"""Generated modules type-check, and mypy catches an application's mistakes.

One mypy run (it is slow) checks every generated module of the corpus and a set
of small applications against two of them: a correct one must be clean, and
each of the others holds one deliberate mistake on the line marked
``# expect: <error code>`` — mypy must report exactly that.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import black
import pytest
from generated import generate
from test_layout_oracle import CORPUS

PRELUDE = """\
from __future__ import annotations

from types_layout_bpf_skel import TypesLayoutBpf, fam, pk
from types_values_bpf_skel import TypesValuesBpf, event


def values() -> TypesValuesBpf:
    return TypesValuesBpf.open()


def layout() -> TypesLayoutBpf:
    return TypesLayoutBpf.open()
"""

GOOD = """
def main() -> None:
    with TypesValuesBpf.open() as skel:
        skel.rodata.scalars_ro.i = 3
        skel.load()
        retval: int = skel.progs.fill.test_run().retval
        number: int = skel.bss.scalars_bss.i
        real: float = skel.bss.scalars_bss.d
        name: bytes = skel.bss.scalars_bss.name
        flag: bool = skel.bss.scalars_bss.flag
        row: bytes = skel.bss.scalars_bss.names[1]
        skel.bss.scalars_bss.names[0] = b"abc"
        letter: int = skel.bss.scalars_bss.names[1][3]
        neg: int = skel.bss.bits_bss.neg
        skel.bss.bits_bss.neg = -1
        top: int = skel.bss.grid_bss.cells[1].top
        skel.bss.grid_bss.cells[1].lo = 3
        skel.bss.grid_bss.cube[1][2][3] = 4
        skel.data.mixed_data.a.c = b"x"
        events: list[event] = skel.maps.events.drain()
        pids = [e.pid for e in events]
        skel.attach()
        link = skel.links.fill
    with TypesLayoutBpf.open_and_load(
        pin_root="/sys/fs/bpf", kconfig={"CONFIG_HZ": 1000, "CONFIG_X": "y"}
    ) as lskel:
        key = pk()
        key.i = 1
        found = lskel.maps.fam_map.lookup(key)
        if found is not None:
            count: int = found.n
        lskel.maps.fam_map[key] = fam()
        lskel.maps.fam_map.print_log2_hist("usecs", slots="libbpf-tools", file=None)
        print(retval, number, real, name, flag, row, letter, neg, top, pids, link)
"""

MISTAKES = {
    "misspelled_global": "values().bss.scalars_bs  # expect: attr-defined",
    "misspelled_field": "values().bss.grid_bss.cels  # expect: attr-defined",
    "misspelled_map": "values().maps.event.drain()  # expect: attr-defined",
    "misspelled_program": "values().progs.fil.test_run()  # expect: attr-defined",
    "wrong_global_type": 'values().bss.checks = "1"  # expect: assignment',
    "wrong_field_type": "values().data.mixed_data.a = 5  # expect: assignment",
    "wrong_char_type": "values().bss.scalars_bss.name = 5  # expect: assignment",
    "wrong_string_row_type": (
        "values().bss.scalars_bss.names[0] = 5  # expect: assignment"
    ),
    "string_row_is_immutable": (
        'values().bss.scalars_bss.names[0][0] = b"a"  # expect: index'
    ),
    "wrong_bitfield_type": 'values().bss.bits_bss.neg = "x"  # expect: assignment',
    "wrong_map_key": "layout().maps.fam_map.lookup(fam())  # expect: arg-type",
    "wrong_map_value": "layout().maps.fam_map[pk()] = pk()  # expect: assignment",
    "untyped_event": "x: bytes = values().maps.events.drain()[0]  # expect: assignment",
    "misspelled_open_option": "TypesValuesBpf.open(pin_rot='/x')  # expect: call-arg",
    "misspelled_open_and_load_option": (
        "TypesValuesBpf.open_and_load(kconfg={})  # expect: call-arg"
    ),
    "misspelled_hist_option": (
        'layout().maps.fam_map.print_log2_hist("us", strip_leading_zeros=True)'
        "  # expect: call-arg"
    ),
    "wrong_hist_slots": (
        'layout().maps.fam_map.print_linear_hist(slots="libbpf")  # expect: arg-type'
    ),
    "wrong_kconfig_value": (
        "TypesValuesBpf.open(kconfig={'CONFIG_HZ': 1.5})  # expect: dict-item"
    ),
}

_EXPECT = re.compile(r"# expect: ([\w-]+)")
_ERROR = re.compile(
    r"^(?P<file>[^:]+\.py):(?P<line>\d+): error: .*\[(?P<code>[\w-]+)\]$"
)


@dataclass
class MypyRun:
    root: Path
    errors: dict[str, list[tuple[int, str]]]  # file name → (line, code)
    output: str


@pytest.fixture(scope="module")
def mypy_run(
    build_bpf: Callable[[str], Path], tmp_path_factory: pytest.TempPathFactory
) -> MypyRun:
    root = tmp_path_factory.mktemp("mypy")
    files = [generate(build_bpf(name), root)[0].name for name in CORPUS]
    files += [
        generate(build_bpf(name), root, all_types=True, suffix="_all")[0].name
        for name in CORPUS
    ]
    (root / "good_app.py").write_text(PRELUDE + GOOD)
    for name, line in MISTAKES.items():
        (root / f"{name}.py").write_text(f"{PRELUDE}\n\n{line}\n")
        files.append(f"{name}.py")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--config-file",
            "",
            "--cache-dir",
            str(root / ".mypy_cache"),
            "--no-error-summary",
            "--hide-error-context",
            "--no-pretty",
            "good_app.py",
            *files,
        ],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    errors: dict[str, list[tuple[int, str]]] = {}
    for line in proc.stdout.splitlines():
        match = _ERROR.match(line)
        if match:
            errors.setdefault(match["file"], []).append(
                (int(match["line"]), match["code"])
            )
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr  # 2: mypy itself failed
    return MypyRun(root, errors, proc.stdout)


@pytest.mark.parametrize("variant", ["", "_all"], ids=["reachable", "all-types"])
@pytest.mark.parametrize("name", CORPUS)
def test_generated_module_passes_mypy_strict_and_black(
    name: str, variant: str, mypy_run: MypyRun
) -> None:
    path = mypy_run.root / f"{name}_bpf_skel{variant}.py"
    source = path.read_text()
    assert black.format_str(source, mode=black.Mode()) == source
    assert mypy_run.errors.get(path.name) is None, mypy_run.output


def test_a_correct_application_is_clean(mypy_run: MypyRun) -> None:
    assert mypy_run.errors.get("good_app.py") is None, mypy_run.output


@pytest.mark.parametrize("mistake", sorted(MISTAKES))
def test_mypy_reports_the_mistake(mistake: str, mypy_run: MypyRun) -> None:
    text = (mypy_run.root / f"{mistake}.py").read_text()
    expected = [
        (number, m[1])
        for number, line in enumerate(text.splitlines(), 1)
        if (m := _EXPECT.search(line))
    ]
    assert mypy_run.errors.get(f"{mistake}.py") == expected, mypy_run.output
