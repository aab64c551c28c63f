"""Maps: one class per kind of map, typed dict-like access, whole-map reads, and the
map kinds that carry event streams (ring buffers, perf buffers).

Each class is imported when first used (``obj.map_types.MAP_CLASS_MODULES`` says
where it is): through this package's attributes, or by ``Map.class_for_type`` when a
map of its kernel type is made.
"""

from __future__ import annotations

from ..obj.map_types import MAP_CLASS_MODULES

TYPE_CHECKING = False  # typing's, without importing typing

__all__ = sorted(MAP_CLASS_MODULES)


def __getattr__(name: str) -> object:
    module = MAP_CLASS_MODULES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(__import__(f"{__name__}.{module}", None, None, [name]), name)
    globals()[name] = value  # later lookups skip this function
    return value


if TYPE_CHECKING:
    from .fd_values import (
        ArrayOfMaps as ArrayOfMaps,
        HashOfMaps as HashOfMaps,
        ProgArrayMap as ProgArrayMap,
    )
    from .lpm import LpmTrieMap as LpmTrieMap
    from .map import (
        ArrayMap as ArrayMap,
        HashMap as HashMap,
        KeylessMap as KeylessMap,
        Map as Map,
        MapItems as MapItems,
    )
    from .percpu import PerCpuArrayMap as PerCpuArrayMap, PerCpuHashMap as PerCpuHashMap
    from .perfbuf import PerfEventArray as PerfEventArray
    from .queues import (
        BloomFilterMap as BloomFilterMap,
        QueueMap as QueueMap,
        StackMap as StackMap,
    )
    from .ringbuf import RingBuf as RingBuf
    from .stack_trace import StackTraceMap as StackTraceMap
    from .struct_ops import StructOpsMap as StructOpsMap
    from .user_ringbuf import UserRingBuf as UserRingBuf
