"""Maps: one class per kind of map, typed dict-like access, whole-map reads, and the
map kinds that carry event streams (ring buffers, perf buffers).

Importing this package registers every class, so that a map opened from an fd, a pin
or an id (``Map.from_pinned`` ...) takes the class of its kernel type.
"""

from .fd_values import ArrayOfMaps, HashOfMaps, ProgArrayMap
from .lpm import LpmTrieMap
from .map import ArrayMap, HashMap, KeylessMap, Map, MapItems
from .percpu import PerCpuArrayMap, PerCpuHashMap
from .perfbuf import PerfEventArray
from .queues import BloomFilterMap, QueueMap, StackMap
from .ringbuf import RingBuf
from .stack_trace import StackTraceMap
from .struct_ops import StructOpsMap
from .user_ringbuf import UserRingBuf

Map.register(
    ArrayMap,
    ArrayOfMaps,
    BloomFilterMap,
    HashMap,
    HashOfMaps,
    LpmTrieMap,
    PerCpuArrayMap,
    PerCpuHashMap,
    PerfEventArray,
    ProgArrayMap,
    QueueMap,
    RingBuf,
    StackMap,
    StackTraceMap,
    StructOpsMap,
    UserRingBuf,
)

__all__ = [
    "ArrayMap",
    "ArrayOfMaps",
    "BloomFilterMap",
    "HashMap",
    "HashOfMaps",
    "KeylessMap",
    "LpmTrieMap",
    "Map",
    "MapItems",
    "PerCpuArrayMap",
    "PerCpuHashMap",
    "PerfEventArray",
    "ProgArrayMap",
    "QueueMap",
    "RingBuf",
    "StackMap",
    "StackTraceMap",
    "StructOpsMap",
    "UserRingBuf",
]
