"""The map kinds beyond plain hash and array maps: per-CPU values, longest-prefix
match keys, stack traces, and maps whose values are other kernel objects."""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING, Any, TypeVar

from .map_codec import Codec, LpmKeyCodec, PerCpuValues
from .maps import ArrayMap, HashMap, Map

if TYPE_CHECKING:
    from .program import Program

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


class LpmTrieMap(Map[K, V]):
    """``LPM_TRIE``: longest-prefix match.  Besides the key class, a key can be
    given as ``(prefixlen, data)`` or as an ``ipaddress`` network."""

    def _codecs(self) -> tuple[Codec, Codec]:
        if self._codecs_cache is None:
            key, value = super()._codecs()
            self._codecs_cache = (LpmKeyCodec(key), value)
        return self._codecs_cache


class StackTraceMap(Map[K, V]):
    """``STACK_TRACE``: stack ids (from ``bpf_get_stackid``) → instruction pointers."""

    def walk(self, stack_id: int) -> list[int]:
        """The addresses of one stack, innermost first (bcc's ``walk``)."""
        ops = self._ops()
        ops.put_key(stack_id)
        if ops.call(*ops.lookup) < 0:
            raise self._failure("lookup", stack_id)
        addresses = []
        for (ip,) in struct.iter_unpack("<Q", bytes(ops.value)):
            if ip == 0:
                break
            addresses.append(ip)
        return addresses


class FdValueMap(Map[K, V]):
    """Maps whose values are kernel objects: write a Program or Map (or an fd),
    read the object's kernel id."""

    def __setitem__(self, key: K, value: V | Program | Map[Any, Any] | int) -> None:
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
