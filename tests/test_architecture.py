"""The architecture of docs/design.md, enforced: layers, cycles, the public API.

Imports are read from the source (every ``import`` statement, including those under
``if TYPE_CHECKING:`` and inside functions), so a cycle cannot hide from the test
the way it can hide from the interpreter.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import skelgen_runtime
from skelgen_runtime.obj.map_types import KEYLESS_TYPES, MAP_CLASS_NAMES

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {
    "skelgen_runtime": ROOT / "runtime" / "skelgen_runtime",
    "skelgen": ROOT / "skelgen",
}
# Computable without the kernel: these never reach the syscall layer or any code that
# uses the kernel, even indirectly.
PURE = ("uapi", "btf", "obj", "cdata", "errors", "usdt")
KERNEL_FACING = (
    "sys",
    "kernel",
    "features",
    "events",
    "maps",
    "link",
    "program",
    "load",
    "bpf_object",
    "skeleton",
    "symbols",
)


def _modules() -> dict[str, tuple[Path, bool]]:
    """Module name → (file, is a package)."""
    found = {}
    for top, root in PACKAGES.items():
        for path in root.rglob("*.py"):
            parts = list(path.relative_to(root).with_suffix("").parts)
            is_package = parts[-1] == "__init__"
            if is_package:
                parts.pop()
            found[".".join([top, *parts])] = (path, is_package)
    return found


MODULES = _modules()


def _imports(name: str) -> Iterator[str]:
    """The project modules that module ``name`` imports, anywhere in its source."""
    path, is_package = MODULES[name]
    package = name.split(".") if is_package else name.split(".")[:-1]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names if a.name in MODULES)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            for alias in node.names:
                submodule = f"{target}.{alias.name}"
                if submodule in MODULES:
                    yield submodule
                elif target in MODULES:
                    yield target


GRAPH = {name: set(_imports(name)) for name in MODULES}


def _unit(module: str) -> str:
    """The architectural unit of a module: its first-level package or module
    (``skelgen_runtime.maps.map`` → ``skelgen_runtime.maps``); the generator is one."""
    parts = module.split(".")
    return "skelgen" if parts[0] == "skelgen" else ".".join(parts[:2])


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in graph.get(node, ()):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in graph.get(node, ()):
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _reachable(start: set[str], graph: dict[str, set[str]]) -> set[str]:
    seen, todo = set(), list(start)
    while todo:
        node = todo.pop()
        if node not in seen:
            seen.add(node)
            todo.extend(graph.get(node, ()))
    return seen


def test_the_import_graph_is_read() -> None:
    """Guards the other tests: the parser sees the imports it must see."""
    assert "skelgen_runtime.maps.map" in GRAPH["skelgen_runtime.maps.ringbuf"]
    assert "skelgen_runtime.obj.elf" in GRAPH["skelgen.pipeline"]
    assert "skelgen_runtime.program" in GRAPH["skelgen_runtime"]  # TYPE_CHECKING
    assert _cycles({"a": {"b"}, "b": {"a"}, "c": set()}) == [["a", "b"]]


def test_no_import_cycle_between_modules() -> None:
    assert _cycles(GRAPH) == []


def test_no_import_cycle_between_packages() -> None:
    units: dict[str, set[str]] = {}
    for module, targets in GRAPH.items():
        if module == "skelgen_runtime":
            continue  # the public API re-exports every package
        units.setdefault(_unit(module), set()).update(
            _unit(t) for t in targets if _unit(t) != _unit(module)
        )
    assert _cycles(units) == []


@pytest.mark.parametrize("unit", [*PURE, "skelgen"])
def test_pure_layers_never_reach_the_kernel_facing_ones(unit: str) -> None:
    name = unit if unit == "skelgen" else f"skelgen_runtime.{unit}"
    start = {m for m in MODULES if _unit(m) == name}
    assert start
    reached = {_unit(m) for m in _reachable(start, GRAPH)}
    assert reached.isdisjoint(f"skelgen_runtime.{k}" for k in KERNEL_FACING)


# Reaching a C function (syscall(2), ioctl(2), mmap(2)) through ctypes starts with
# looking it up: an audit hook sees that.
_AUDIT_C_LOOKUPS = """
import sys
calls = []
sys.addaudithook(
    lambda event, args: event in ("ctypes.dlopen", "ctypes.dlsym") and calls.append(args)
)
"""


@pytest.mark.parametrize("command", [[], ["vmlinux", "--btf"]])
def test_the_generator_makes_no_syscall_through_ctypes(
    command: list[str], build_bpf: Callable[[str], Path], tmp_path: Path
) -> None:
    """Run the generator (and the C header writer) with an audit hook: no C
    function is looked up and the syscall layer is never imported."""
    obj = build_bpf("globals")
    args = [*command, str(obj), "-o", str(tmp_path / "out")]
    script = _AUDIT_C_LOOKUPS + f"""
from skelgen.cli import main
code = main({args!r})
assert code in (0, None), code
assert not calls, calls
layers = sorted(m for m in sys.modules if m.startswith("skelgen_runtime.sys"))
assert not layers, layers
"""
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "out").exists()


def test_the_audit_hook_sees_the_syscall_layer() -> None:
    """The previous test would pass vacuously if the hook never fired."""
    script = _AUDIT_C_LOOKUPS + """
import skelgen_runtime.sys.syscall
assert calls
"""
    subprocess.run([sys.executable, "-c", script], check=True)


def _type_checking_names() -> set[str]:
    tree = ast.parse(MODULES["skelgen_runtime"][0].read_text())
    names = set()
    for node in tree.body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for stmt in node.body:
                assert isinstance(stmt, ast.ImportFrom)
                for alias in stmt.names:
                    assert alias.asname == alias.name  # an explicit re-export
                    names.add(alias.name)
    return names


def test_public_api_is_one_list() -> None:
    """What type checkers see, what ``__all__`` says and what resolves agree."""
    exported = set(skelgen_runtime.__all__) - {"__version__"}
    assert _type_checking_names() == exported
    for name in sorted(exported):
        assert getattr(skelgen_runtime, name) is not None, name


def test_importing_the_package_imports_almost_nothing() -> None:
    script = (
        "import sys, skelgen_runtime; "
        "print(sorted(m for m in sys.modules if m.startswith('skelgen_runtime.')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_every_map_class_is_public_registered_and_generic_as_the_table_says() -> None:
    from skelgen_runtime.maps import Map

    for map_type, name in MAP_CLASS_NAMES.items():
        cls = getattr(skelgen_runtime, name)
        assert Map.class_for_type(map_type) is cls
        arity = 1 if map_type in KEYLESS_TYPES else 2
        assert len(cls.__parameters__) == arity, name
