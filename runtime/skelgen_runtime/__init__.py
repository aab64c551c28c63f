"""skelgen_runtime: load and drive eBPF objects from Python through bpf(2)."""

from .errors import (
    AttachError,
    BPFError,
    BPFPermissionError,
    LoadError,
    MapError,
    ObjectError,
)
from .histogram import print_linear_hist, print_log2_hist
from .links import Link
from .map_codec import PerCpuValues
from .map_info import MapInfo
from .map_kinds import (
    ArrayOfMaps,
    HashOfMaps,
    LpmTrieMap,
    PerCpuArrayMap,
    PerCpuHashMap,
    ProgArrayMap,
    StackTraceMap,
)
from .maps import ArrayMap, HashMap, Map, MapItems
from .obj import BPFObject
from .perfbuf import PerfEventArray
from .poller import EventPoller
from .program import Program, TestRunResult
from .queue_maps import BloomFilterMap, QueueMap, StackMap
from .ringbuf import RingBuf
from .sys.consts import MapType, UpdateFlag
from .user_ringbuf import UserRingBuf

__version__ = "0.1.0"

__all__ = [
    "ArrayMap",
    "ArrayOfMaps",
    "AttachError",
    "BPFError",
    "BPFObject",
    "BPFPermissionError",
    "BloomFilterMap",
    "EventPoller",
    "HashMap",
    "HashOfMaps",
    "Link",
    "LoadError",
    "LpmTrieMap",
    "Map",
    "MapError",
    "MapInfo",
    "MapItems",
    "MapType",
    "ObjectError",
    "PerCpuArrayMap",
    "PerCpuHashMap",
    "PerCpuValues",
    "PerfEventArray",
    "ProgArrayMap",
    "Program",
    "QueueMap",
    "RingBuf",
    "StackMap",
    "StackTraceMap",
    "TestRunResult",
    "UpdateFlag",
    "UserRingBuf",
    "__version__",
    "print_linear_hist",
    "print_log2_hist",
]
