"""Write docs/api.md, the reference of skelgen_runtime's public API, from docstrings.

The names and their grouping are those of ``_EXPORTS`` in the package's
``__init__.py`` (its ``# comment`` lines title the groups); each name's text is its
docstring, each method's signature is what :mod:`inspect` reads.  The output depends
on the source alone, byte for byte (a test compares it with the committed page):

    python scripts/api_doc.py -o docs/api.md     # or: make docs
"""

from __future__ import annotations

import argparse
import functools
import inspect
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import skelgen_runtime
from skelgen_runtime.lean.enums import EnumType
from skelgen_runtime.lean.records import fields, is_dataclass

INIT = Path(skelgen_runtime.__file__)
_GROUP = re.compile(r"^\s*#\s*(.+?)\s*$")
_ENTRY = re.compile(r'^\s*"(\w+)":\s*"([.\w]+)",\s*$')
# Sphinx roles and reST literals → Markdown code spans.
_ROLE = re.compile(r":(?:class|func|meth|mod|attr|data|exc|obj):`~?([^`]+)`")
_LITERAL = re.compile(r"``(.+?)``")
_ADDRESS = re.compile(r" at 0x[0-9a-f]+")
_MEMBER_LIMIT = 40  # enum members listed in full up to this many


def groups(source: str) -> list[tuple[str, list[str]]]:
    """``[(title, [name, ...]), ...]`` in the order of ``_EXPORTS``."""
    body = source[source.index("_EXPORTS") : source.index("\n}\n")]
    found: list[tuple[str, list[str]]] = []
    for line in body.splitlines()[1:]:
        if group := _GROUP.match(line):
            found.append((group[1], []))
        elif entry := _ENTRY.match(line):
            found[-1][1].append(entry[1])
    return found


def markdown(doc: str) -> str:
    """A docstring as Markdown: roles and literals as code spans, ``::`` as ``:``."""
    doc = _ROLE.sub(lambda m: f"`{m[1].rsplit('.', 1)[-1]}`", doc)
    doc = _LITERAL.sub(r"`\1`", doc)
    return re.sub(r"::$", ":", doc, flags=re.MULTILINE)


def own_doc(obj: Any) -> str:
    """The object's own docstring (not one inherited from a base class)."""
    doc = vars(obj).get("__doc__") if inspect.isclass(obj) else obj.__doc__
    return markdown(inspect.cleandoc(doc)) if doc else ""


class _Annotation:
    """An annotation as written in the source (``from __future__ import
    annotations`` keeps them as strings; inspect would print them quoted)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


def _unquoted(annotation: Any) -> Any:
    return _Annotation(annotation) if isinstance(annotation, str) else annotation


def signature(function: Callable[..., Any], *, drop_first: bool = False) -> str:
    try:
        sig = inspect.signature(function)
    except (TypeError, ValueError):
        return "(...)"
    parameters = list(sig.parameters.values())[1 if drop_first else 0 :]
    returns = sig.return_annotation
    sig = sig.replace(
        parameters=[p.replace(annotation=_unquoted(p.annotation)) for p in parameters],
        return_annotation=(
            inspect.Signature.empty if returns in ("None", None) else _unquoted(returns)
        ),
    )
    return _ADDRESS.sub("", str(sig))


def indent(text: str, prefix: str = "  ") -> str:
    return "\n".join(prefix + line if line else "" for line in text.splitlines())


def _own_members(cls: type) -> Iterator[tuple[str, str, str]]:
    """(name, heading, doc) of each public method and property ``cls`` defines
    itself, in definition order."""
    field_names = {f.name for f in fields(cls)} if is_dataclass(cls) else set()
    for name, value in vars(cls).items():
        if (name.startswith("_") and name != "__call__") or name in field_names:
            continue
        if isinstance(value, property | functools.cached_property):
            doc = value.__doc__
            text = markdown(inspect.cleandoc(doc)) if doc else ""
            yield name, f"`{name}` (property)", text
        elif isinstance(value, classmethod | staticmethod):
            function = value.__func__
            drop = isinstance(value, classmethod)
            sig = signature(function, drop_first=drop)
            yield name, f"`{name}{sig}`", own_doc(function)
        elif inspect.isfunction(value):
            sig = signature(value, drop_first=True)
            yield name, f"`{name}{sig}`", own_doc(value)


def _members(cls: type, public: set[str]) -> Iterator[tuple[str, str]]:
    """(heading, doc) of the class's members and those of its bases that are not
    public names themselves (documented under their own heading): what a user of
    the class can call."""
    seen: set[str] = set()
    for klass in cls.__mro__:
        if klass is not cls and (
            klass.__name__ in public
            or not klass.__module__.startswith(INIT.parent.name)
        ):
            continue
        for name, heading, doc in _own_members(klass):
            if name not in seen:
                seen.add(name)
                yield heading, doc


def _bases(cls: type) -> str:
    bases = [b.__name__ for b in cls.__bases__ if b is not object]
    return f" — bases: {', '.join(f'`{b}`' for b in bases)}" if bases else ""


def describe(name: str, obj: Any, public: set[str]) -> str:
    lines = [f"### `{name}`", ""]
    if isinstance(obj, EnumType):
        lines += [f"`class {name}({obj.__bases__[0].__name__})`", ""]
        members = list(obj.__members__)
        shown = members if len(members) <= _MEMBER_LIMIT else members[:_MEMBER_LIMIT]
        more = "" if shown is members else f", … ({len(members)} in all)"
        doc = own_doc(obj)
        lines += [doc, ""] if doc else []
        lines += ["Members: " + ", ".join(f"`{m}`" for m in shown) + more, ""]
    elif inspect.isclass(obj):
        if is_dataclass(obj):
            sig = signature(obj)
        elif "__init__" in vars(obj):
            sig = signature(vars(obj)["__init__"], drop_first=True)
        else:
            sig = ""
        lines += [f"`class {name}{sig}`{_bases(obj)}", ""]
        doc = own_doc(obj)
        lines += [doc, ""] if doc else []
        for heading, member_doc in _members(obj, public):
            lines.append(f"- {heading}")
            lines += [indent(member_doc), ""] if member_doc else [""]
    else:
        lines += [f"`{name}{signature(obj)}`", ""]
        doc = own_doc(obj)
        lines += [doc, ""] if doc else []
    return "\n".join(lines)


def anchor(name: str) -> str:
    return name.lower()


def render() -> str:
    parts = [
        "# skelgen_runtime: API reference",
        "",
        "<!-- Generated by scripts/api_doc.py from the docstrings (make docs); "
        "do not edit. -->",
        "",
        "The public names of `skelgen_runtime`, imported from the package itself "
        "(`from skelgen_runtime import BPFObject`), grouped as the package lists them. "
        "Classes list their methods and properties, those of internal base classes "
        "included; members of a public base class are under its own heading. The guide to these names is the "
        "[README](../README.md); generated modules are described in "
        "[generated-module.md](generated-module.md).",
        "",
    ]
    sections = groups(INIT.read_text())
    public = {name for _, names in sections for name in names}
    for title, names in sections:
        links = ", ".join(f"[`{n}`](#{anchor(n)})" for n in names)
        parts.append(f"- {title.capitalize()}: {links}")
    parts.append("")
    for title, names in sections:
        parts += [f"## {title.capitalize()}", ""]
        parts += [describe(n, getattr(skelgen_runtime, n), public) for n in names]
    text = "\n".join(parts).rstrip() + "\n"
    return re.sub(r"\n{3,}", "\n\n", text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", type=Path, help="default: stdout")
    args = parser.parse_args(argv)
    text = render()
    if args.output is None:
        sys.stdout.write(text)
    else:
        args.output.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
