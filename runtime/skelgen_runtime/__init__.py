"""skelgen_runtime: load and drive eBPF objects from Python through bpf(2).

The public API is the names below; import them from here, not from the submodules
(generated skeletons do the same, so the internal layout can change without
regenerating them).  Each name is imported when first used: a program that only
needs a ring buffer and a hash map never imports the code of the other map kinds.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing's, without importing typing

__version__ = "0.1.0"

# name → the module that defines it
_EXPORTS: dict[str, str] = {
    # the object, the skeleton, programs and links
    "BPFObject": ".bpf_object",
    "Skeleton": ".skeleton",
    "LinkNamespace": ".skeleton",
    "MapNamespace": ".skeleton",
    "ProgramNamespace": ".skeleton",
    "StructOpsNamespace": ".skeleton",
    "Subskeleton": ".subskeleton",
    "Program": ".program",
    "TestRunResult": ".program",
    "Link": ".link.link",
    "IterLink": ".link.link",
    "UsdtLink": ".link.usdt",
    "PerfSamplingLink": ".link.perf_event",
    # maps
    "Map": ".maps",
    "MapItems": ".maps",
    "HashMap": ".maps",
    "ArrayMap": ".maps",
    "PerCpuHashMap": ".maps",
    "PerCpuArrayMap": ".maps",
    "LpmTrieMap": ".maps",
    "StackTraceMap": ".maps",
    "ProgArrayMap": ".maps",
    "ArrayOfMaps": ".maps",
    "HashOfMaps": ".maps",
    "QueueMap": ".maps",
    "StackMap": ".maps",
    "BloomFilterMap": ".maps",
    "RingBuf": ".maps",
    "PerfEventArray": ".maps",
    "UserRingBuf": ".maps",
    "StructOpsMap": ".maps",
    "MapInfo": ".maps.info",
    "PerCpuValues": ".cdata.codec",
    "EventPoller": ".events.poller",
    "print_log2_hist": ".maps.histogram",
    "print_linear_hist": ".maps.histogram",
    # symbols and bpf_printk output
    "ksym": ".symbols.kallsyms",
    "KernelSymbols": ".symbols.kallsyms",
    "sym": ".symbols.user",
    "UserSymbols": ".symbols.user",
    "Symbol": ".symbols.table",
    "TracePipe": ".symbols.trace_pipe",
    "TraceEvent": ".symbols.trace_pipe",
    # C data: what generated classes build on
    "Struct": ".cdata.types",
    "Union": ".cdata.types",
    "BitField": ".cdata.types",
    "CArray": ".cdata.types",
    "array": ".cdata.types",
    "check_sizes": ".cdata.types",
    # kernel constants
    "MapType": ".uapi.bpf",
    "UpdateFlag": ".uapi.bpf",
    "ProgType": ".uapi.bpf",
    "AttachType": ".uapi.bpf",
    # errors
    "BPFError": ".errors",
    "ObjectError": ".errors",
    "LoadError": ".errors",
    "AttachError": ".errors",
    "MapError": ".errors",
    "BPFPermissionError": ".errors",
    "LoadPermissionError": ".errors",
    "AttachPermissionError": ".errors",
    "MapPermissionError": ".errors",
    "SymbolError": ".errors",
    "TracePipeError": ".errors",
    "FrozenError": ".cdata.types",
}

__all__ = sorted([*_EXPORTS, "__version__"])


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    # importlib.import_module(module, __name__), without importing importlib
    value = getattr(__import__(module[1:], globals(), None, [name], 1), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:  # what type checkers see; tests check it matches _EXPORTS
    from .bpf_object import BPFObject as BPFObject
    from .cdata.codec import PerCpuValues as PerCpuValues
    from .cdata.types import (
        BitField as BitField,
        CArray as CArray,
        FrozenError as FrozenError,
        Struct as Struct,
        Union as Union,
        array as array,
        check_sizes as check_sizes,
    )
    from .errors import (
        AttachError as AttachError,
        AttachPermissionError as AttachPermissionError,
        BPFError as BPFError,
        BPFPermissionError as BPFPermissionError,
        LoadError as LoadError,
        LoadPermissionError as LoadPermissionError,
        MapError as MapError,
        MapPermissionError as MapPermissionError,
        ObjectError as ObjectError,
        SymbolError as SymbolError,
        TracePipeError as TracePipeError,
    )
    from .events.poller import EventPoller as EventPoller
    from .link.link import IterLink as IterLink, Link as Link
    from .link.perf_event import PerfSamplingLink as PerfSamplingLink
    from .link.usdt import UsdtLink as UsdtLink
    from .maps import (
        ArrayMap as ArrayMap,
        ArrayOfMaps as ArrayOfMaps,
        BloomFilterMap as BloomFilterMap,
        HashMap as HashMap,
        HashOfMaps as HashOfMaps,
        LpmTrieMap as LpmTrieMap,
        Map as Map,
        MapItems as MapItems,
        PerCpuArrayMap as PerCpuArrayMap,
        PerCpuHashMap as PerCpuHashMap,
        PerfEventArray as PerfEventArray,
        ProgArrayMap as ProgArrayMap,
        QueueMap as QueueMap,
        RingBuf as RingBuf,
        StackMap as StackMap,
        StackTraceMap as StackTraceMap,
        StructOpsMap as StructOpsMap,
        UserRingBuf as UserRingBuf,
    )
    from .maps.histogram import (
        print_linear_hist as print_linear_hist,
        print_log2_hist as print_log2_hist,
    )
    from .maps.info import MapInfo as MapInfo
    from .program import Program as Program, TestRunResult as TestRunResult
    from .skeleton import (
        LinkNamespace as LinkNamespace,
        MapNamespace as MapNamespace,
        ProgramNamespace as ProgramNamespace,
        Skeleton as Skeleton,
        StructOpsNamespace as StructOpsNamespace,
    )
    from .subskeleton import Subskeleton as Subskeleton
    from .symbols.kallsyms import KernelSymbols as KernelSymbols, ksym as ksym
    from .symbols.table import Symbol as Symbol
    from .symbols.trace_pipe import TraceEvent as TraceEvent, TracePipe as TracePipe
    from .symbols.user import UserSymbols as UserSymbols, sym as sym
    from .uapi.bpf import (
        AttachType as AttachType,
        MapType as MapType,
        ProgType as ProgType,
        UpdateFlag as UpdateFlag,
    )
