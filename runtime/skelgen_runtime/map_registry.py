"""The Python class of each map type — one table for the runtime and the generator.

Every class is generic in what Python sees: ``[K, V]`` for maps with keys (``V`` is
one CPU's value for per-CPU maps, the kernel object's id for maps of fds), ``[V]`` for
queues, stacks and bloom filters, ``[E]`` (the event) for ring and perf buffers.
"""

from __future__ import annotations

from typing import Any

from .btf.btf import AbstractBtf
from .map_codec import btf_scalar_ctype
from .map_kinds import (
    ArrayOfMaps,
    HashOfMaps,
    LpmTrieMap,
    PerCpuArrayMap,
    PerCpuHashMap,
    ProgArrayMap,
    StackTraceMap,
)
from .maps import ArrayMap, HashMap, Map
from .perfbuf import PerfEventArray
from .queue_maps import BloomFilterMap, QueueMap, StackMap
from .ringbuf import RingBuf
from .spec import MapSpec
from .sys.consts import MapType
from .user_ringbuf import UserRingBuf

MAP_CLASSES: dict[MapType, type[Map[Any, Any]]] = {
    MapType.HASH: HashMap,
    MapType.LRU_HASH: HashMap,
    MapType.ARRAY: ArrayMap,
    MapType.PERCPU_HASH: PerCpuHashMap,
    MapType.LRU_PERCPU_HASH: PerCpuHashMap,
    MapType.PERCPU_ARRAY: PerCpuArrayMap,
    MapType.LPM_TRIE: LpmTrieMap,
    MapType.STACK_TRACE: StackTraceMap,
    MapType.PROG_ARRAY: ProgArrayMap,
    MapType.ARRAY_OF_MAPS: ArrayOfMaps,
    MapType.HASH_OF_MAPS: HashOfMaps,
    MapType.QUEUE: QueueMap,
    MapType.STACK: StackMap,
    MapType.BLOOM_FILTER: BloomFilterMap,
    MapType.RINGBUF: RingBuf,
    MapType.USER_RINGBUF: UserRingBuf,
    MapType.PERF_EVENT_ARRAY: PerfEventArray,
}


def class_for_type(map_type: MapType) -> type[Map[Any, Any]]:
    return MAP_CLASSES.get(map_type, Map)


def map_for_spec(spec: MapSpec, btf: AbstractBtf | None = None) -> Map[Any, Any]:
    """The map object for a map of an object file.  With the object's BTF, integer
    keys and values read as Python ints without any generated class."""
    key_type = value_type = None
    if btf is not None and spec.datasec is None:
        key_type = btf_scalar_ctype(btf, spec.btf_key_type_id)
        value_type = btf_scalar_ctype(btf, spec.btf_value_type_id)
    return class_for_type(spec.type)(spec, key_type, value_type)
