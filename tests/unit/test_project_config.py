"""``[tool.skelgen]`` of a pyproject.toml: what it declares, and one clear error
for every malformed part (a misspelled key is an error, never ignored)."""

from __future__ import annotations

import tomllib

import pytest
from conftest import ROOT
from skelgen_runtime import BPFError

from skelgen.compile import VMLINUX_BTF
from skelgen.pipeline import ModuleSettings
from skelgen.project import ModuleEntry, ProjectConfig, project_config


def config_of(text: str) -> ProjectConfig:
    return project_config(tomllib.loads(text))


def test_the_example_project() -> None:
    pyproject = tomllib.loads((ROOT / "examples/packaged/pyproject.toml").read_text())
    config = project_config(pyproject)
    assert config.clang is None and config.btf == VMLINUX_BTF
    assert config.modules == (
        ModuleEntry(
            "bpf/execcount.bpf.c",
            "execcount/execcount_skel.py",
            ModuleSettings(event_types={"events": "event"}),
        ),
    )


def test_every_option() -> None:
    config = config_of("""
        [tool.skelgen]
        clang = "clang-18"
        btf = "vmlinux.btf"
        [[tool.skelgen.modules]]
        source = "./bpf/a.bpf.c"
        output = "pkg/a_skel.py"
        name = "alpha"
        types = ["foo", "bar"]
        all-types = true
        event-types = { events = "event", perf = "sample" }
        clang-flags = ["-I", "include", "-DDEBUG"]
        [[tool.skelgen.modules]]
        source = "bpf/b.bpf.c"
        output = "pkg/b_skel.py"
        """)
    assert (config.clang, config.btf) == ("clang-18", "vmlinux.btf")
    first, second = config.modules
    assert first == ModuleEntry(
        "bpf/a.bpf.c",
        "pkg/a_skel.py",
        ModuleSettings(
            name="alpha",
            types=("foo", "bar"),
            all_types=True,
            event_types={"events": "event", "perf": "sample"},
        ),
        ("-I", "include", "-DDEBUG"),
    )
    assert second.settings == ModuleSettings() and second.clang_flags == ()


MODULE = '[[tool.skelgen.modules]]\nsource = "a.bpf.c"\noutput = "a_skel.py"\n'


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[project]\nname = 'x'\n", "pyproject.toml has no [tool.skelgen] table"),
        ("[tool.skelgen]\n", "[tool.skelgen] modules: expected a list of tables"),
        ("[tool.skelgen]\nmodules = []\n", "expected a list of tables"),
        ("[tool.skelgen]\nmodules = ['a.c']\n", "modules[0]: expected a table"),
        (
            f"[tool.skelgen]\nclnag = 'clang'\n{MODULE}",
            "[tool.skelgen]: unknown key 'clnag' (known: btf, clang, modules)",
        ),
        (f"[tool.skelgen]\nclang = 19\n{MODULE}", "clang: expected a string, got 19"),
        (
            MODULE + "evnet-types = {}\n",
            "[tool.skelgen] modules[0]: unknown key 'evnet-types'",
        ),
        (MODULE.replace('source = "a.bpf.c"\n', ""), "modules[0]: source is missing"),
        (
            MODULE.replace('"a.bpf.c"', '"../a.bpf.c"'),
            "modules[0] source: '../a.bpf.c' is not a relative path inside the project",
        ),
        (
            MODULE.replace('"a_skel.py"', '"/usr/lib/a_skel.py"'),
            "is not a relative path inside the project",
        ),
        (MODULE.replace('"a_skel.py"', '"a_skel"'), "output: 'a_skel' is not a .py"),
        (MODULE + "types = 'foo'\n", "modules[0] types: expected a list, got 'foo'"),
        (MODULE + "types = [1]\n", "modules[0] types: expected a list of strings"),
        (MODULE + "all-types = 'yes'\n", "all-types: expected true or false"),
        (MODULE + "event-types = ['x']\n", "event-types: expected a table"),
        (MODULE + "event-types = { e = 1 }\n", 'expected MAP = "TYPE" strings'),
        (MODULE + MODULE, "two modules are written to a_skel.py"),
    ],
)
def test_malformed_tables(text: str, message: str) -> None:
    if "[tool.skelgen]" not in text and text.startswith("[["):
        text = "[tool.skelgen]\n" + text
    with pytest.raises(BPFError) as error:
        config_of(text)
    assert message in str(error.value)
    assert "\n" not in str(error.value)
