"""Maps whose values are other kernel objects: programs (tail calls) and maps."""

from __future__ import annotations

from ..lean.hints import Any, Protocol, TypeVar
from .map import Map

K = TypeVar("K")
V = TypeVar("V")


class KernelObject(Protocol):
    """A program, map or anything else the kernel knows by an fd."""

    @property
    def fd(self) -> int: ...


class FdValueMap(Map[K, V]):
    """Maps whose values are kernel objects: write a Program or Map (or an fd),
    read the object's kernel id."""

    def __setitem__(self, key: K, value: V | KernelObject | int) -> None:
        super().__setitem__(key, value)  # type: ignore[assignment]


class ProgArrayMap(FdValueMap[K, V]):
    """``PROG_ARRAY``: tail-call targets, ``m[i] = program``."""


class ArrayOfMaps(FdValueMap[K, V]):
    """``ARRAY_OF_MAPS``: ``m[i] = inner``; ``m[i]`` is the inner map's id,
    :meth:`inner` opens it."""

    def inner(
        self, key: K, *, key_type: Any = None, value_type: Any = None
    ) -> Map[Any, Any]:
        """The inner map at ``key``, opened (close it, or use ``with``)."""
        map_id: Any = self[key]
        return Map.from_id(map_id, key_type=key_type, value_type=value_type)


class HashOfMaps(ArrayOfMaps[K, V]):
    """``HASH_OF_MAPS``: as :class:`ArrayOfMaps`, by any key."""
