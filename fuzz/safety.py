"""Is a generated module harmless?  Two independent looks.

:func:`unexpected_statements` reads the source with :mod:`ast`: a generated module
is imports of ctypes/enum/skelgen_runtime, classes, aliases, constants and the calls
``array()``, ``BitField()``, ``check_sizes()`` — anything else means text from the
object escaped its identifier or ``repr()`` literal.  :class:`AuditWatch` records
what executing the module actually did (opening files, starting processes,
importing modules it should not) through :func:`sys.addaudithook`.
"""

from __future__ import annotations

import ast
import sys
from typing import Any

import skelgen_runtime

_IMPORTS = {"__future__", "ctypes", "enum"}
_CALLS = {"array", "BitField", "check_sizes"}
_ANNOTATION_BUILTINS = {"int", "bytes", "float", "bool", "None"}


def unexpected_statements(source: str) -> list[str]:
    """What in ``source`` is not one of the statements a generated module is made
    of: imports of ctypes/enum and of skelgen_runtime's public names, classes,
    aliases, check_sizes()."""
    tree = ast.parse(source)
    problems: list[str] = []
    defined: set[str] = set()
    for stmt in tree.body:
        if isinstance(stmt, ast.ImportFrom):
            module = stmt.module or ""
            if module == "skelgen_runtime":
                public = set(skelgen_runtime.__all__)
                problems += [
                    f"imports {a.name} from skelgen_runtime"
                    for a in stmt.names
                    if a.name not in public
                ]
            elif module not in _IMPORTS:
                problems.append(f"imports {module}")
            defined |= {a.asname or a.name for a in stmt.names}
        elif isinstance(stmt, ast.Import):
            names = {a.name for a in stmt.names}
            problems += [f"imports {n}" for n in names - _IMPORTS]
            defined |= names
        elif isinstance(stmt, ast.ClassDef):
            defined.add(stmt.name)
        elif isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            target = stmt.targets[0]
            if isinstance(target, ast.Name):
                defined.add(target.id)
            else:
                problems.append(f"line {stmt.lineno}: assigns to {ast.dump(target)}")
        elif isinstance(stmt, ast.Expr) and isinstance(
            stmt.value, (ast.Constant, ast.Call)
        ):
            pass  # the docstring, check_sizes(...)
        else:
            problems.append(
                f"line {stmt.lineno}: {type(stmt).__name__} at module level"
            )
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            problems.append(f"line {node.lineno}: defines a function")
        elif isinstance(node, ast.Call) and not (
            isinstance(node.func, ast.Name) and node.func.id in _CALLS
        ):
            problems.append(f"line {node.lineno}: calls {ast.unparse(node.func)}")
        elif isinstance(node, ast.Attribute) and not (
            isinstance(node.value, ast.Name) and node.value.id in ("ctypes", "enum")
        ):
            problems.append(f"line {node.lineno}: attribute {ast.unparse(node)}")
        elif (
            isinstance(node, ast.Name)
            and isinstance(node.ctx, ast.Load)
            and node.id not in defined | _ANNOTATION_BUILTINS
        ):
            problems.append(f"line {node.lineno}: reads unknown name {node.id}")
    return problems


# Audit events a module defining ctypes classes has no business raising.
_FORBIDDEN_PREFIXES = (
    "os.",
    "subprocess.",
    "socket.",
    "shutil.",
    "urllib.",
    "http.",
    "ctypes.dlopen",
    "ctypes.dlsym",
    "ctypes.call_function",
    "builtins.input",
    "webbrowser.",
    "pty.",
    "fcntl.",
    "signal.",
    "mmap.",
)
_FORBIDDEN_EVENTS = {"open", "compile", "exec", "sys.settrace", "sys.setprofile"}
_ALLOWED_IMPORTS = ("ctypes", "enum", "skelgen_runtime", "__future__")


class AuditWatch:
    """Records forbidden audit events while :attr:`active` (a hook cannot be
    removed once added: install one per process)."""

    def __init__(self) -> None:
        self.active = False
        self.events: list[str] = []
        self._code: object = None  # the module's own code, which may be exec'd
        sys.addaudithook(self._hook)

    def run(self, code: Any, namespace: dict[str, Any]) -> list[str]:
        """Execute ``code`` in ``namespace``; the forbidden events it raised."""
        self.events, self._code, self.active = [], code, True
        try:
            exec(code, namespace)
        finally:
            self.active, self._code = False, None
        return self.events

    def _hook(self, event: str, args: tuple[Any, ...]) -> None:
        if not self.active or (event == "exec" and args and args[0] is self._code):
            return
        if event == "import":
            module = str(args[0])
            if not module.startswith(_ALLOWED_IMPORTS):
                self.events.append(f"import {module}")
        elif event in _FORBIDDEN_EVENTS or event.startswith(_FORBIDDEN_PREFIXES):
            self.events.append(event)
