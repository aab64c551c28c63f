"""Every relative link of the project's Markdown resolves inside the repository,
anchors included; the runtime's README, its PyPI page, links nowhere else."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RUNTIME_README = ROOT / "runtime" / "README.md"
PAGES = sorted(
    path
    for path in ROOT.rglob("*.md")
    if not any(
        part.startswith(".") or part in ("build", "dist")
        for part in path.relative_to(ROOT).parts
    )
)
_FENCED = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
_CODE = re.compile(r"^```.*?^```|`[^`\n]*`", re.MULTILINE | re.DOTALL)
_LINK = re.compile(r"\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_HEADING = re.compile(r"^#{1,6}[ \t]+(.+?)[ \t]*#*[ \t]*$", re.MULTILINE)


def links(page: Path) -> list[str]:
    """The targets of the page's inline links, outside code."""
    return _LINK.findall(_CODE.sub("", page.read_text()))


def anchors(page: Path) -> set[str]:
    """GitHub's ids for the page's headings: lower case, punctuation dropped,
    spaces as hyphens, repeats numbered."""
    seen: dict[str, int] = {}
    ids = set()
    for heading in _HEADING.findall(_FENCED.sub("", page.read_text())):
        # code and emphasis markers go; an underscore inside a word stays
        text = re.sub(r"[`*]|(?<!\w)_|_(?!\w)|\[([^\]]*)\]\([^)]*\)", r"\1", heading)
        slug = re.sub(r"[^\w\- ]", "", text.lower()).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        ids.add(slug if count == 0 else f"{slug}-{count}")
    return ids


def is_external(target: str) -> bool:
    return re.match(r"^[a-z][a-z0-9+.-]*:", target) is not None


def test_the_pages_and_links_are_found() -> None:
    """Guards the tests below against a pattern that matches nothing."""
    assert ROOT / "README.md" in PAGES and RUNTIME_README in PAGES
    assert "docs/design.md" in links(ROOT / "README.md")
    assert "attaching-programs" in anchors(ROOT / "README.md")
    assert "options-of-skelgen" in anchors(ROOT / "README.md")
    assert "print_log2_hist" in anchors(ROOT / "docs" / "api.md")


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve_inside_the_repository(page: Path) -> None:
    broken = []
    for target in links(page):
        if is_external(target):
            continue
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if ROOT not in file.parents or not file.exists():
            broken.append(f"{target}: no such file in the repository")
        elif anchor and file.suffix == ".md" and anchor not in anchors(file):
            broken.append(f"{target}: no heading #{anchor} in {file.name}")
    assert broken == []


def test_the_runtime_readme_is_self_contained() -> None:
    """It is skelgen-runtime's page on the package index, where relative links
    lead nowhere: only anchors of its own and absolute URLs."""
    relative = [
        t for t in links(RUNTIME_README) if not is_external(t) and not t.startswith("#")
    ]
    assert relative == []
