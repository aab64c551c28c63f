"""``Skeleton``: the base class every generated skeleton subclasses.

A generated class only declares what the object holds (typed attributes, the tables
below, the embedded object); the behaviour lives here, on top of :class:`BPFObject`,
so a skeleton does nothing the plain runtime API cannot do.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Mapping

from .bpf_object import BPFObject, KconfigValue
from .cdata.types import freeze, write_through
from .closing import Closing
from .errors import BPFError, ObjectError
from .lean.hints import TYPE_CHECKING, Any, ClassVar, Self, Unpack
from .link.link import Link
from .maps.map import Map
from .program import Program

if TYPE_CHECKING:
    from .lean.hints import TypedDict

    class OpenOptions(TypedDict, total=False):
        """The keyword arguments of :meth:`Skeleton.open`, so that ``open_and_load``
        takes exactly those (a misspelled one is a type error)."""

        object_path: str | os.PathLike[str] | None
        object_name: str | None
        pin_root: str
        btf_custom_path: str | None
        kconfig: Mapping[str, KconfigValue] | None


class MapNamespace:
    """``skel.maps``: one attribute per map, iterable over the maps."""

    def __init__(self, maps: Mapping[str, Map[Any, Any]]) -> None:
        for attr, m in maps.items():
            object.__setattr__(self, attr, m)

    def __iter__(self) -> Iterator[Map[Any, Any]]:
        return iter(list(vars(self).values()))


class ProgramNamespace:
    """``skel.progs``: one attribute per program, iterable over the programs."""

    def __init__(self, programs: Mapping[str, Program]) -> None:
        for attr, program in programs.items():
            object.__setattr__(self, attr, program)

    def __iter__(self) -> Iterator[Program]:
        return iter(list(vars(self).values()))


class StructOpsNamespace:
    """``skel.struct_ops``: each struct_ops map's table in the object's layout of
    its struct, writable until load (bpftool's ``skel->struct_ops.<map>``)."""

    def __init__(self, tables: Mapping[str, Any]) -> None:
        for attr, table in tables.items():
            object.__setattr__(self, attr, table)


class LinkNamespace:
    """``skel.links``: the link of each program and struct_ops map, or None.  A link assigned here by
    hand belongs to the skeleton: detach() and destroy() release it too."""

    def __init__(self, names: list[str]) -> None:
        for attr in names:
            object.__setattr__(self, attr, None)

    def __setattr__(self, name: str, value: Link | None) -> None:
        if name not in vars(self):
            raise AttributeError(f"no program named {name!r} in this skeleton")
        if value is not None and not isinstance(value, Link):
            raise TypeError(f"skel.links.{name} takes a Link or None")
        object.__setattr__(self, name, value)

    def __iter__(self) -> Iterator[tuple[str, Link | None]]:
        return iter(list(vars(self).items()))

    def detach_all(self) -> None:
        for name, link in self:
            if link is not None:
                link.detach()
                object.__setattr__(self, name, None)


class SectionViews:
    """Global-data views as attributes of a skeleton or subskeleton, and what load
    changes for them: ``.rodata`` frozen; on a kernel that cannot mmap the sections,
    reads refreshed from the map (``__getattr__``), field writes sent to it."""

    obj: BPFObject
    _map_backed_views: dict[str, Any]

    def _section_loaded(self, attr: str, section: str) -> None:
        view = getattr(self, attr)
        if self.obj.spec.datasecs[section].readonly:
            freeze(view)
        if self.obj.datasec(section).map_backed:
            write_through(view)
            self._map_backed_views[attr] = view
            object.__delattr__(self, attr)

    def __getattr__(self, name: str) -> Any:
        # Only reached for attributes not set on the instance: the global-data
        # sections that a kernel without BPF_F_MMAPABLE keeps in a map.
        views = self.__dict__.get("_map_backed_views", {})
        if name not in views:
            raise AttributeError(f"{type(self).__name__!r} has no attribute {name!r}")
        view = views[name]
        view._memory_.refresh()
        return view


class Skeleton(SectionViews, Closing):
    """open → (set rodata/bss, autoload, map sizes) → load → attach → destroy."""

    # Filled in by the generated subclass.
    _object_name_: ClassVar[str]
    _object_data_: ClassVar[bytes | None] = None  # embedded: zlib + base85
    # the embedded object already parsed (obj.packed): opening it reads no ELF
    _object_spec_: ClassVar[bytes | None] = None
    # --no-embed: the object's SHA-256, and where it is unless open() says
    # (--object-path; a relative path is relative to the module's directory)
    _object_sha256_: ClassVar[str | None] = None
    _object_path_: ClassVar[str | None] = None
    _maps_: ClassVar[dict[str, tuple[str, Any, Any]]] = {}  # attr → (map, key, value)
    _programs_: ClassVar[dict[str, str]] = {}  # attr → program name
    _datasecs_: ClassVar[dict[str, tuple[str, Any]]] = {}  # attr → (section, class)
    # attr → (struct_ops map, class of its struct); their links are links.<attr>
    _struct_ops_: ClassVar[dict[str, tuple[str, Any]]] = {}
    _struct_ops_namespace_: ClassVar[type[StructOpsNamespace]] = StructOpsNamespace
    _namespaces_: ClassVar[
        tuple[type[MapNamespace], type[ProgramNamespace], type[LinkNamespace]]
    ]

    maps: MapNamespace
    progs: ProgramNamespace
    links: LinkNamespace
    struct_ops: StructOpsNamespace

    def __init__(self, obj: BPFObject) -> None:
        self.obj = obj
        maps_type, progs_type, links_type = self._namespaces_
        typed_maps: dict[str, Map[Any, Any]] = {}
        for attr, (map_name, key_type, value_type) in self._maps_.items():
            m = obj.maps[map_name]
            m.set_element_types(key_type, value_type)
            typed_maps[attr] = m
        self.maps = maps_type(typed_maps)
        self.progs = progs_type(
            {a: obj.programs[p] for a, p in self._programs_.items()}
        )
        self.links = links_type([*self._programs_, *self._struct_ops_])
        tables = {}
        for attr, (map_name, cls) in self._struct_ops_.items():
            from .maps.struct_ops import StructOpsMap

            m = obj.maps[map_name]
            assert isinstance(m, StructOpsMap)
            tables[attr] = cls.from_buffer(m.data)
        self.struct_ops = self._struct_ops_namespace_(tables)
        self._map_backed_views = {}
        for attr, (section, cls) in self._datasecs_.items():
            memory = obj.datasec(section)
            view = cls.from_address(memory.address)
            # The view keeps the memory alive; the memory outlives destroy().
            object.__setattr__(view, "_memory_", memory)
            object.__setattr__(self, attr, view)

    # -- opening ----------------------------------------------------------------------

    @classmethod
    def elf_bytes(cls, object_path: str | os.PathLike[str] | None = None) -> bytes:
        """The BPF object this skeleton was generated from: the embedded one
        (DWARF dropped), or for a module generated with ``--no-embed`` the file
        at ``object_path``, else at the path given at generation."""
        if cls._object_data_ is not None:
            if object_path is not None:
                raise BPFError(
                    f"{cls.__name__} embeds its object: object_path is for"
                    " modules generated with --no-embed"
                )
            import base64
            import zlib

            return zlib.decompress(base64.b85decode(cls._object_data_))
        import hashlib

        from .obj.elf import read_object_bytes

        path = cls._default_object_path() if object_path is None else object_path
        data = read_object_bytes(path)
        expected = cls._object_sha256_
        if expected is not None and hashlib.sha256(data).hexdigest() != expected:
            raise ObjectError(
                f"{os.fspath(path)}: not the object {cls.__name__} was generated"
                " from (its SHA-256 differs): regenerate the module"
            )
        return data

    @classmethod
    def _default_object_path(cls) -> str:
        if cls._object_path_ is None:
            raise BPFError(
                f"{cls.__name__} was generated with --no-embed and no --object-path:"
                " pass open(object_path=...)"
            )
        module_file = getattr(sys.modules.get(cls.__module__), "__file__", None)
        base = os.path.dirname(module_file) if module_file else ""
        return os.path.join(base, cls._object_path_)

    @classmethod
    def open(
        cls,
        *,
        object_path: str | os.PathLike[str] | None = None,
        object_name: str | None = None,
        pin_root: str = "/sys/fs/bpf",
        btf_custom_path: str | None = None,
        kconfig: Mapping[str, KconfigValue] | None = None,
    ) -> Self:
        """Parse the object; maps and programs can still be configured.
        ``object_path``: where the object is, for a module generated with
        ``--no-embed``; the other options are :meth:`BPFObject.open`'s."""
        name = object_name or cls._object_name_
        spec = None
        if cls._object_spec_ is not None and object_path is None:
            from .obj.packed import unpack

            spec = unpack(cls._object_spec_)  # None: packed by another runtime
        if spec is None:
            obj = BPFObject.from_bytes(
                cls.elf_bytes(object_path),
                name,
                pin_root=pin_root,
                btf_custom_path=btf_custom_path,
                kconfig=kconfig,
            )
        else:
            spec.name = name
            obj = BPFObject(
                spec,
                pin_root=pin_root,
                btf_custom_path=btf_custom_path,
                kconfig=kconfig,
            )
        return cls(obj)

    @classmethod
    def open_and_load(cls, **options: Unpack[OpenOptions]) -> Self:
        """``open(**options)``, then ``load()``; destroyed again if loading fails."""
        skel = cls.open(**options)
        try:
            skel.load()
        except BaseException:
            skel.destroy()
            raise
        return skel

    # -- lifecycle --------------------------------------------------------------------

    def load(self) -> None:
        self.obj.load()
        for attr, (section, _cls) in self._datasecs_.items():
            self._section_loaded(attr, section)

    def attach(self) -> None:
        """Attach every program whose section says how and register every struct_ops
        map; ``skel.links`` gets the links."""
        names = {
            **{name: attr for attr, name in self._programs_.items()},
            **{name: attr for attr, (name, _cls) in self._struct_ops_.items()},
        }
        for name, link in self.obj.attach().items():
            attr = names.get(name)
            if attr is not None and getattr(self.links, attr) is None:
                setattr(self.links, attr, link)

    def detach(self) -> None:
        self.links.detach_all()
        self.obj.detach()

    def destroy(self) -> None:
        self.detach()
        self.obj.destroy()

    def close(self) -> None:
        self.destroy()
