"""The USDT state of one object, kept with its programs: which spec ids its USDT
attachments hold, and the maps they write.  Light to import: the attach code
(:mod:`.usdt`) loads when a program first attaches to a USDT probe."""

from __future__ import annotations

import errno
import functools
import threading
from collections.abc import Mapping

from ..btf.btf import AbstractBtf
from ..errors import AttachError
from ..lean.hints import TYPE_CHECKING, Any, Protocol
from ..maps.map import Map
from ..usdt import IP_TO_SPEC_ID_MAP, SPECS_MAP
from .attaching import AttachableProgram

if TYPE_CHECKING:
    from ..usdt.spec import SpecLayout


class UsdtManager:
    """The USDT state of one object (libbpf's ``usdt_manager``): its two maps, the
    layout of a spec, and which spec ids attachments hold."""

    def __init__(self, maps: Mapping[str, Map[Any, Any]], btf: AbstractBtf) -> None:
        self._maps = maps
        self._btf = btf
        self._lock = threading.Lock()
        self._free_ids: list[int] = []
        self._next_id = 0

    def _map(self, name: str) -> Map[Any, Any]:
        found = self._maps.get(name)
        if found is None or not found.loaded:
            raise AttachError(
                f"the object has no loaded map {name} (include <bpf/usdt.bpf.h> in "
                "the BPF program)",
                errno=errno.ESRCH,
            )
        return found

    @property
    def specs(self) -> Map[Any, Any]:
        return self._map(SPECS_MAP)

    @property
    def ip_to_spec_id(self) -> Map[Any, Any]:
        return self._map(IP_TO_SPEC_ID_MAP)

    @functools.cached_property
    def layout(self) -> SpecLayout:
        """The layout of a spec, as the object's usdt.bpf.h declares it."""
        from ..usdt.spec import SpecLayout

        return SpecLayout.from_btf(self._btf, self.specs.spec.btf_value_type_id)

    def allocate(self, count: int) -> list[int]:
        """``count`` spec ids, reusing released ones first (libbpf's order)."""
        with self._lock:
            reused = [
                self._free_ids.pop() for _ in range(min(count, len(self._free_ids)))
            ]
            fresh = count - len(reused)
            capacity = self.specs.max_entries
            if self._next_id + fresh > capacity:
                self._free_ids.extend(reversed(reused))
                raise AttachError(
                    f"{SPECS_MAP} is full ({capacity} specs in use): define "
                    "BPF_USDT_MAX_SPEC_CNT larger, or set the map's max_entries",
                    errno=errno.E2BIG,
                )
            ids = reused + list(range(self._next_id, self._next_id + fresh))
            self._next_id += fresh
            return ids

    def release(self, ids: list[int]) -> None:
        with self._lock:
            self._free_ids.extend(ids)


class UsdtProgram(AttachableProgram, Protocol):
    """A loaded program that knows its object's USDT state."""

    @property
    def usdt_manager(self) -> UsdtManager: ...
