"""The generated ctypes classes lay every type out exactly as gcc does.

For each object of the corpus (``tests/bpf/types_*.bpf.c``) the gcc oracle
(``tests/oracle/c_layout.py``) gives sizeof/offsetof of every named type, typedef
and data-section struct and the bit position of every bitfield; the generated
module (``--all-types``) must give the same numbers through ctypes.  The oracle's
C names are mapped to generated classes through BTF and the names the generator
recorded, never by guessing.
"""

from __future__ import annotations

import ctypes
import re
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from c_layout import MemberLayout, TypeLayout, c_layouts
from generated import generate, import_file
from skelgen_runtime.btf import Btf, types as bt
from skelgen_runtime.cdata.types import BitField

from skelgen.module import Generated

CORPUS = sorted(
    p.name.removesuffix(".bpf.c")
    for p in (Path(__file__).parents[1] / "bpf").glob("types_*.bpf.c")
)
_TAG_KINDS: dict[str, type | tuple[type, ...]] = {
    "struct": bt.Struct,
    "union": bt.Union,
    "enum": bt.Enum,
}
_RENAMED = re.compile(r"___\d+$")  # bpftool's suffix for a clashing tag
_DESIGNATOR = re.compile(r"(\w+)((?:\[0\])*)")


def _type_id(btf: Btf, key: str) -> int:
    """The BTF type behind an oracle key such as ``struct foo`` or ``foo_t``."""
    keyword, _, name = key.rpartition(" ")
    kind = _TAG_KINDS[keyword] if keyword else bt.Typedef
    ids = btf.find(name, kind) or btf.find(_RENAMED.sub("", name), kind)
    if len(ids) != 1:
        raise LookupError(f"{key}: BTF has {len(ids)} candidates {ids}")
    return ids[0]


def _field_type(cls: Any, attr: str) -> Any:
    """The ctype of field ``attr``, looking through anonymous members."""
    for name, ctype, *_ in cls._fields_:
        if name == attr:
            return ctype
        if name in getattr(cls, "_anonymous_", ()):
            found = _field_type(ctype, attr)
            if found is not None:
                return found
    return None


class _Checker:
    def __init__(self, module: ModuleType, generated: Generated) -> None:
        self.classes = generated.types.classes
        self.namespace = vars(module)
        self.differences: list[str] = []
        self.checked = 0

    def check_type(self, key: str, layout: TypeLayout, cls: Any, datasec: bool) -> None:
        size = ctypes.sizeof(cls)
        if datasec:
            # A section class spans the whole ELF section (check_sizes holds it to
            # that at import), which may hold unnamed data past the last variable;
            # the skeleton's C struct stops there, rounded up to its alignment.
            fits = layout.size <= -(-size // layout.align) * layout.align
            if not fits:
                self.differences.append(
                    f"{key}: sizeof gcc {layout.size} > ctypes {size}"
                )
        elif size != layout.size:
            self.differences.append(f"{key}: sizeof gcc {layout.size}, ctypes {size}")
        self.checked += 1
        for member in layout.members:
            try:
                self.check_member(key, member, cls)
            except (KeyError, AttributeError, TypeError) as exc:
                self.differences.append(f"{key}.{member.name}: not found ({exc})")
            self.checked += 1

    def check_member(self, key: str, member: MemberLayout, cls: Any) -> None:
        where = f"{key}.{member.name}"
        offset = 0
        parts = _DESIGNATOR.findall(member.name)
        for i, (c_name, subscripts) in enumerate(parts):
            attr = self.classes[cls.__name__].attribute(c_name)
            descriptor = vars(cls).get(attr)
            if isinstance(descriptor, BitField):
                assert i == len(parts) - 1, where
                got = (
                    offset * 8 + descriptor.byte_offset * 8 + descriptor.shift,
                    descriptor.bits,
                )
                if got != (member.bit_offset, member.bit_size):
                    self.differences.append(
                        f"{where}: bits gcc {member.bit_offset}:{member.bit_size}, "
                        f"ctypes {got[0]}:{got[1]}"
                    )
                return
            offset += getattr(cls, attr).offset
            cls = _field_type(cls, attr)
            if i == len(parts) - 1:
                break
            for _ in range(subscripts.count("[")):
                cls = cls._type_
        if member.bit_offset is not None:
            self.differences.append(f"{where}: a bitfield in gcc, a ctypes field here")
        got_layout = (offset, ctypes.sizeof(cls))
        if got_layout != (member.offset, member.size):
            self.differences.append(
                f"{where}: offset/size gcc {member.offset}/{member.size}, "
                f"ctypes {got_layout[0]}/{got_layout[1]}"
            )


@pytest.mark.parametrize("name", CORPUS)
def test_every_size_and_offset_matches_gcc(
    name: str, build_bpf: Callable[[str], Path], tmp_path: Path
) -> None:
    obj = build_bpf(name)
    layouts = c_layouts(obj, tmp_path / "oracle")
    path, generated = generate(obj, tmp_path, all_types=True)
    btf = generated.types.btf
    checker = _Checker(import_file(path), generated)
    for key, layout in layouts.items():
        if key.startswith("datasec "):
            section = key.removeprefix("datasec ")
            cls = checker.namespace[generated.datasec_classes[section]]
            checker.check_type(key, layout, cls, datasec=True)
            continue
        expr = generated.types.expression(_type_id(btf, key))
        cls = eval(expr, checker.namespace)  # a class name, alias or ctypes expression
        checker.check_type(key, layout, cls, datasec=False)
    assert (
        not checker.differences
    ), f"{len(checker.differences)} differences from gcc:\n" + "\n".join(
        checker.differences
    )
    assert checker.checked == len(layouts) + sum(
        len(t.members) for t in layouts.values()
    )
    assert any(k.startswith("datasec ") for k in layouts)
