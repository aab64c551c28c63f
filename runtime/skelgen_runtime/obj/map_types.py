"""What each map type is to Python: its class, and how its keys and values read.

One table for the runtime (which instantiates the classes) and the generator (which
names them in annotations), kept free of kernel access so the generator stays pure.
"""

from __future__ import annotations

from ..uapi.bpf import MapType

PERCPU_TYPES = frozenset(
    {
        MapType.PERCPU_HASH,
        MapType.PERCPU_ARRAY,
        MapType.LRU_PERCPU_HASH,
        MapType.PERCPU_CGROUP_STORAGE,
    }
)
# Maps whose values are fds of other kernel objects when written (ids when read).
FD_VALUE_TYPES = frozenset(
    {
        MapType.PROG_ARRAY,
        MapType.PERF_EVENT_ARRAY,
        MapType.CGROUP_ARRAY,
        MapType.ARRAY_OF_MAPS,
        MapType.HASH_OF_MAPS,
    }
)
MAP_IN_MAP_TYPES = frozenset({MapType.ARRAY_OF_MAPS, MapType.HASH_OF_MAPS})
# Maps whose keys are u32 indexes (or ids) whatever their BTF says: ints in Python.
INDEX_KEY_TYPES = frozenset(
    {
        MapType.ARRAY,
        MapType.PERCPU_ARRAY,
        MapType.PROG_ARRAY,
        MapType.PERF_EVENT_ARRAY,
        MapType.CGROUP_ARRAY,
        MapType.ARRAY_OF_MAPS,
        MapType.STACK_TRACE,
        MapType.DEVMAP,
        MapType.CPUMAP,
        MapType.XSKMAP,
        MapType.SOCKMAP,
        MapType.REUSEPORT_SOCKARRAY,
    }
)

# Maps without keys: queues, stacks, bloom filters and event streams.  Their classes
# are generic in the value (or event) only.
KEYLESS_TYPES = frozenset(
    {
        MapType.QUEUE,
        MapType.STACK,
        MapType.BLOOM_FILTER,
        MapType.RINGBUF,
        MapType.USER_RINGBUF,
        MapType.PERF_EVENT_ARRAY,
    }
)

# The public ``skelgen_runtime`` class of each map type; other types are plain ``Map``.
MAP_CLASS_NAMES: dict[MapType, str] = {
    MapType.HASH: "HashMap",
    MapType.LRU_HASH: "HashMap",
    MapType.ARRAY: "ArrayMap",
    MapType.PERCPU_HASH: "PerCpuHashMap",
    MapType.LRU_PERCPU_HASH: "PerCpuHashMap",
    MapType.PERCPU_ARRAY: "PerCpuArrayMap",
    MapType.LPM_TRIE: "LpmTrieMap",
    MapType.STACK_TRACE: "StackTraceMap",
    MapType.PROG_ARRAY: "ProgArrayMap",
    MapType.ARRAY_OF_MAPS: "ArrayOfMaps",
    MapType.HASH_OF_MAPS: "HashOfMaps",
    MapType.QUEUE: "QueueMap",
    MapType.STACK: "StackMap",
    MapType.BLOOM_FILTER: "BloomFilterMap",
    MapType.RINGBUF: "RingBuf",
    MapType.USER_RINGBUF: "UserRingBuf",
    MapType.PERF_EVENT_ARRAY: "PerfEventArray",
    MapType.STRUCT_OPS: "StructOpsMap",
}


# The module of ``skelgen_runtime.maps`` that defines each class, imported when a map of
# its type is first made (a program with a hash map never imports the ring buffer's).
MAP_CLASS_MODULES: dict[str, str] = {
    "Map": "map",
    "HashMap": "map",
    "ArrayMap": "map",
    "KeylessMap": "map",
    "MapItems": "map",
    "PerCpuHashMap": "percpu",
    "PerCpuArrayMap": "percpu",
    "LpmTrieMap": "lpm",
    "StackTraceMap": "stack_trace",
    "ProgArrayMap": "fd_values",
    "ArrayOfMaps": "fd_values",
    "HashOfMaps": "fd_values",
    "QueueMap": "queues",
    "StackMap": "queues",
    "BloomFilterMap": "queues",
    "RingBuf": "ringbuf",
    "UserRingBuf": "user_ringbuf",
    "PerfEventArray": "perfbuf",
    "StructOpsMap": "struct_ops",
}


def map_class_name(map_type: MapType) -> str:
    return MAP_CLASS_NAMES.get(map_type, "Map")
