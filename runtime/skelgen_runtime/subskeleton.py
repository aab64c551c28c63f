"""``Subskeleton``: typed access to a BPF library's part of a bigger object.

A library (``lib.bpf.o``) linked into a final object (``bpftool gen object final.o
app.bpf.o lib.bpf.o``) keeps its variables, maps and programs by name, but its
variables move: the linker appends each input's ``.bss``, ``.data`` and ``.rodata``
to the final object's.  A subskeleton, generated from the library alone
(``skelgen --subskeleton lib.bpf.o``), binds to a :class:`BPFObject` or
:class:`Skeleton` of any object linked with it and finds each name there, as
bpftool's ``bpf_object__open_subskeleton`` does; the library's global-data classes
are laid out again at the offsets the final object gives their variables.
"""

from __future__ import annotations

import ctypes
import functools
from collections.abc import Mapping

from .bpf_object import BPFObject
from .cdata.types import Struct
from .errors import BPFError
from .lean.hints import Any, ClassVar
from .skeleton import MapNamespace, ProgramNamespace, SectionViews, Skeleton


class Subskeleton(SectionViews):
    """The library's maps (``maps``), programs (``progs``) and global variables
    (one attribute per data section) inside a bigger object."""

    # Filled in by the generated subclass.
    _maps_: ClassVar[dict[str, tuple[str, Any, Any]]] = {}  # attr → (map, key, value)
    _programs_: ClassVar[dict[str, str]] = {}  # attr → program name
    # attr → (section, class in the library's layout, {attribute: variable name})
    _datasecs_: ClassVar[dict[str, tuple[str, Any, dict[str, str]]]] = {}
    _namespaces_: ClassVar[tuple[type[MapNamespace], type[ProgramNamespace]]]

    maps: MapNamespace
    progs: ProgramNamespace

    def __init__(self, obj: BPFObject | Skeleton) -> None:
        self.obj = obj.obj if isinstance(obj, Skeleton) else obj
        maps_type, progs_type = self._namespaces_
        typed = {}
        for attr, (map_name, key_type, value_type) in self._maps_.items():
            self._require("map", map_name, self.obj.maps)
            m = self.obj.maps[map_name]
            m.set_element_types(key_type, value_type)
            typed[attr] = m
        self.maps = maps_type(typed)
        for program in self._programs_.values():
            self._require("program", program, self.obj.programs)
        self.progs = progs_type(
            {a: self.obj.programs[p] for a, p in self._programs_.items()}
        )
        self._map_backed_views = {}
        for attr, (section, cls, variables) in self._datasecs_.items():
            placed = _placed_class(self.obj, section, cls, variables)
            memory = self.obj.datasec(section)
            view = placed.from_address(memory.address)
            object.__setattr__(view, "_memory_", memory)  # keeps the memory alive
            object.__setattr__(self, attr, view)
            # What load does to the views (.rodata frozen...), now or when it happens.
            if self.obj.loaded:
                self._section_loaded(attr, section)
            else:
                self.obj.after_load.append(
                    functools.partial(self._section_loaded, attr, section)
                )

    def _require(self, what: str, name: str, known: Mapping[str, Any]) -> None:
        if name not in known:
            raise BPFError(
                f"{type(self).__name__}: object {self.obj.name} has no {what} "
                f"{name!r}: was it linked with the library?"
            )


def _placed_class(
    obj: BPFObject, section: str, cls: Any, variables: dict[str, str]
) -> type[Struct]:
    """``cls``'s variables at the offsets ``obj`` has them in ``section``."""
    datasec = obj.spec.datasecs.get(section)
    offsets = {} if datasec is None else {v.name: v for v in datasec.variables}
    types = {field[0]: field[1] for field in cls._fields_}  # attribute → ctype
    placed = []
    for attr, name in variables.items():
        var = offsets.get(name)
        if var is None:
            raise BPFError(
                f"{cls.__name__}: object {obj.name} has no variable {name!r} in "
                f"{section}: was it linked with the library?"
            )
        ctype = types[attr]
        if ctypes.sizeof(ctype) != var.size:
            raise BPFError(
                f"{cls.__name__}: variable {name!r} is {ctypes.sizeof(ctype)} bytes in "
                f"the library but {var.size} in object {obj.name}"
            )
        placed.append((var.offset, attr, ctype))
    fields: list[tuple[str, Any]] = []
    cursor = 0
    for offset, attr, ctype in sorted(placed, key=lambda p: p[0]):
        if offset > cursor:
            fields.append((f"_pad{len(fields)}", ctypes.c_uint8 * (offset - cursor)))
        fields.append((attr, ctype))
        cursor = offset + ctypes.sizeof(ctype)
    namespace = {"_fields_": fields, "__doc__": cls.__doc__, "__slots__": ()}
    return type(cls.__name__, (Struct,), namespace)
