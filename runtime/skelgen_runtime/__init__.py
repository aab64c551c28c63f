"""skelgen_runtime: load and drive eBPF objects from Python through bpf(2)."""

from .errors import (
    AttachError,
    BPFError,
    BPFPermissionError,
    LoadError,
    MapError,
    ObjectError,
)
from .links import Link
from .maps import ArrayMap, HashMap, Map
from .obj import BPFObject
from .program import Program, TestRunResult
from .ringbuf import RingBuf

__version__ = "0.1.0"

__all__ = [
    "ArrayMap",
    "AttachError",
    "BPFError",
    "BPFObject",
    "BPFPermissionError",
    "HashMap",
    "Link",
    "LoadError",
    "Map",
    "MapError",
    "ObjectError",
    "Program",
    "RingBuf",
    "TestRunResult",
    "__version__",
]
