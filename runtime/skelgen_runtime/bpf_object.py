"""``BPFObject``: the runtime API on any object file, no generated code needed.

    with BPFObject.open("prog.bpf.o") as obj:
        obj.datasec(".rodata").write(...)      # or obj.maps[...] / obj.programs[...]
        obj.load()
        obj.attach()

The generated skeleton is a typed layer over exactly this class.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .closing import Closing
from .errors import AttachError, BPFError, MapError
from .link.link import Link
from .link.usdt_manager import UsdtManager
from .load.loader import Loader
from .load.memory import SectionMemory
from .maps import Map
from .maps.map import pin_path_for
from .obj.spec import ObjectSpec
from .program import Program

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

    def attach(self) -> dict[str, Link]:
        """Attach every loaded program whose section says how (libbpf's skeleton
        attach).  If one fails, the ones attached by this call are detached again."""
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
