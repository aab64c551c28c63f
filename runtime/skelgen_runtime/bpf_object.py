"""``BPFObject``: the runtime API on any object file, no generated code needed.

    with BPFObject.open("prog.bpf.o") as obj:
        obj.datasec(".rodata").write(...)      # or obj.maps[...] / obj.programs[...]
        obj.load()
        obj.attach()

The generated skeleton is a typed layer over exactly this class.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

from .closing import Closing
from .errors import AttachError, BPFError, MapError
from .lean.hints import Any
from .link.link import Link
from .link.usdt_manager import UsdtManager
from .load.loader import Loader
from .load.memory import SectionMemory
from .maps import Map
from .maps.map import pin_path_for
from .obj.spec import ObjectSpec
from .program import Program
from .uapi.bpf import MapType, ProgType

# A CONFIG_* override: bool → y/n, int, or a string as written in a .config.
KconfigValue = bool | int | str


class _Named(Mapping[str, Any]):
    """A read-only name → object table whose missing names give a helpful error."""

    def __init__(self, what: str, items: dict[str, Any], error: type[BPFError]) -> None:
        self._what = what
        self._items = items
        self._error = error

    def __getitem__(self, name: str) -> Any:
        try:
            return self._items[name]
        except KeyError:
            known = ", ".join(sorted(self._items)) or "none"
            raise self._error(
                f"no {self._what} named {name!r} (the object has: {known})"
            ) from None

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)


class BPFObject(Closing):
    """An opened object: its maps, programs and global data, loadable into the kernel."""

    def __init__(
        self,
        spec: ObjectSpec,
        *,
        pin_root: str = "/sys/fs/bpf",
        btf_custom_path: str | None = None,
        kconfig: Mapping[str, KconfigValue] | None = None,
    ) -> None:
        self.spec = spec
        self.pin_root = pin_root
        self.btf_custom_path = btf_custom_path
        self.kconfig = dict(kconfig or {})
        self._maps = {name: Map.for_spec(m, spec.btf) for name, m in spec.maps.items()}
        for m in self._maps.values():
            m.pin_path = pin_path_for(m.spec, pin_root)
        usdt = UsdtManager(self._maps, spec.btf)
        self._programs = {name: Program(p, usdt) for name, p in spec.programs.items()}
        self._memories = {
            name: SectionMemory(d.data, d.size)
            for name, d in spec.datasecs.items()
            if d.mmapable
        }
        self._loader: Loader | None = None
        self.links: dict[str, Link] = {}
        #: Called once the object is loaded (what subskeletons do to their views).
        self.after_load: list[Callable[[], None]] = []
        self.loaded = False
        self.destroyed = False

    # -- construction -----------------------------------------------------------------

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str],
        *,
        name: str | None = None,
        pin_root: str = "/sys/fs/bpf",
        btf_custom_path: str | None = None,
        kconfig: Mapping[str, KconfigValue] | None = None,
    ) -> BPFObject:
        """Read an object file; ``name`` defaults to the file name without ``.o``."""
        from pathlib import Path

        from .obj.elf import read_object_file  # the ELF reader: not for packed specs

        return cls(
            read_object_file(Path(path), name),
            pin_root=pin_root,
            btf_custom_path=btf_custom_path,
            kconfig=kconfig,
        )

    @classmethod
    def from_bytes(
        cls,
        data: bytes,
        name: str,
        *,
        pin_root: str = "/sys/fs/bpf",
        btf_custom_path: str | None = None,
        kconfig: Mapping[str, KconfigValue] | None = None,
    ) -> BPFObject:
        """Read an object held in memory (what a skeleton embeds)."""
        from .obj.elf import read_object

        return cls(
            read_object(data, name, origin=name),
            pin_root=pin_root,
            btf_custom_path=btf_custom_path,
            kconfig=kconfig,
        )

    # -- lookups ----------------------------------------------------------------------

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def maps(self) -> Mapping[str, Map[Any, Any]]:
        return _Named("map", self._maps, MapError)

    @property
    def programs(self) -> Mapping[str, Program]:
        return _Named("program", self._programs, BPFError)

    def datasec(self, section: str) -> SectionMemory:
        """The memory of a global-data section that user space can map (``.bss``...)."""
        return _Named("mapped data section", self._memories, BPFError)[section]  # type: ignore[no-any-return]

    # -- lifecycle --------------------------------------------------------------------

    def _alive(self) -> None:
        if self.destroyed:
            raise BPFError(f"object {self.name} has been destroyed")

    def load(self) -> None:
        self._alive()
        if self.loaded:
            raise BPFError(f"object {self.name} is already loaded")
        self._struct_ops_autoload()
        loader = Loader(
            self.spec,
            self._maps,
            self._programs,
            self._memories,
            custom_btf_path=self.btf_custom_path,
            kconfig=self.kconfig,
        )
        loader.load()
        self._loader = loader
        self.loaded = True
        for step in self.after_load:
            step()

    def _struct_ops_autoload(self) -> None:
        """As libbpf at load (``bpf_object_adjust_struct_ops_autoload``): a struct_ops
        program that some struct_ops map uses loads exactly when one of those maps is
        created, whatever its autoload was set to (the map's value needs its fd, and
        it has no other use); one that no map uses is not loaded unless its autoload
        was set by hand."""
        created: dict[str, bool] = {}
        for m in self.spec.maps.values():
            if m.struct_ops is not None:
                for name in m.struct_ops.programs.values():
                    created[name] = created.get(name, False) or m.autocreate
        for program in self._programs.values():
            if program.prog_type != ProgType.STRUCT_OPS:
                continue
            if program.name in created:
                program.spec.autoload = created[program.name]
            elif not program.autoload_set:
                program.spec.autoload = False

    def attach_struct_ops(self, map_name: str) -> Link:
        """Register the struct_ops map ``map_name`` with the kernel (libbpf's
        ``bpf_map__attach_struct_ops``); its link, also in ``links``, unregisters it."""
        from .link.struct_ops import attach_struct_ops
        from .maps.struct_ops import StructOpsMap

        self._alive()
        m = self.maps[map_name]
        if not isinstance(m, StructOpsMap):
            raise AttachError(f"map {map_name} is not a struct_ops map")
        existing = self.links.get(map_name)
        if existing is not None and existing.attached:
            raise AttachError(f"struct_ops {map_name} is registered already")
        link = self.links[map_name] = attach_struct_ops(m)
        return link

    def attach(self) -> dict[str, Link]:
        """Attach every loaded program whose section says how and register every
        struct_ops map (libbpf's skeleton attach); ``links`` holds them by program or
        map name.  If one fails, the ones attached by this call are detached again."""
        self._alive()
        if not self.loaded:
            raise AttachError(f"object {self.name}: load() before attach()")
        made: list[str] = []
        try:
            for name, program in self._programs.items():
                existing = self.links.get(name)
                if (
                    not program.loaded
                    or not program.autoattach
                    or (existing is not None and existing.attached)
                ):
                    continue
                link = program.auto_attach()
                if link is not None:
                    self.links[name] = link
                    made.append(name)
            for name, m in self._maps.items():
                existing = self.links.get(name)
                if (
                    m.spec.type == MapType.STRUCT_OPS  # a StructOpsMap
                    and m.loaded
                    and (existing is None or not existing.attached)
                ):
                    self.attach_struct_ops(name)
                    made.append(name)
        except BaseException:
            for name in made:
                self.links.pop(name).detach()
            raise
        return dict(self.links)

    def detach(self) -> None:
        """Detach every link: those in ``links`` (auto-attached or put there by hand)
        and every link made from one of the programs, even if dropped."""
        for link in self.links.values():
            link.detach()
        self.links.clear()
        for program in self._programs.values():
            program.detach_links()

    def destroy(self) -> None:
        """Detach, close every fd; global data stays readable (private copy)."""
        if self.destroyed:
            return
        self.detach()
        if self._loader is not None:
            self._loader.unload()
        else:
            for m in self._maps.values():
                m.close()
        self.destroyed = True

    def close(self) -> None:
        self.destroy()

    def __del__(self) -> None:
        if not getattr(self, "destroyed", True):
            self.destroy()
