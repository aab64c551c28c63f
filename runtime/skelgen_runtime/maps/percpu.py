"""Per-CPU maps: a value per possible CPU at every key."""

from __future__ import annotations

from ..cdata.codec import PerCpuValues
from ..lean.hints import TypeVar
from .map import ArrayMap, HashMap

K = TypeVar("K")
V = TypeVar("V")


class PerCpuHashMap(HashMap[K, PerCpuValues[V]]):
    """``PERCPU_HASH`` and ``LRU_PERCPU_HASH``: a value per possible CPU.

    ``m[key]`` gives a :class:`PerCpuValues` list (``.sum()``, ``.max()``); an
    assignment takes such a list, or one value that every CPU gets.
    """

    def __setitem__(self, key: K, value: PerCpuValues[V] | list[V] | V) -> None:
        super().__setitem__(key, value)  # type: ignore[assignment]


class PerCpuArrayMap(ArrayMap[K, PerCpuValues[V]]):
    """``PERCPU_ARRAY``: a value per possible CPU at every index."""

    def __setitem__(self, key: K, value: PerCpuValues[V] | list[V] | V) -> None:
        super().__setitem__(key, value)  # type: ignore[assignment]
