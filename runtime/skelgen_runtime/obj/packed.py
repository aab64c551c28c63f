"""An ``ObjectSpec`` as the generator embeds it: already parsed, unpacked in microseconds.

The generator reads the object anyway; it embeds the resulting spec (pickled, then
zlib) beside the object itself, so a skeleton that opens its embedded object reads
no ELF, decodes no BTF and imports no ELF library.  Unpacking is only as safe as
importing the module the bytes are in, which is code already.

A spec is packed only when every object in it is of a class of the spec's modules
(:data:`SPEC_MODULES`).  The packed bytes carry a checksum of those classes (the
fields of each dataclass, the members of each enum, the constructor of the others):
when the runtime that unpacks them has different classes, :func:`unpack` returns
None and the caller reads the embedded object instead.
"""

from __future__ import annotations

import sys
import zlib

from ..lean.enums import EnumType
from ..lean.hints import Any
from ..lean.records import fields, is_dataclass
from .spec import ObjectSpec

try:  # the C unpickler alone: the pickle module imports re, struct and enum
    from _pickle import loads as _loads
except ImportError:  # an interpreter without it
    from pickle import loads as _loads

FORMAT = 1
# The modules whose classes a spec is made of.
SPEC_MODULES = (
    "skelgen_runtime.obj.spec",
    "skelgen_runtime.obj.sections",
    "skelgen_runtime.btf.btf",
    "skelgen_runtime.btf.ext",
    "skelgen_runtime.btf.types",
    "skelgen_runtime.uapi.bpf",
)
_PLAIN = (type(None), bool, int, float, str, bytes, bytearray)
_signature: bytes | None = None  # computed once per process


def _class_signature(cls: type) -> object:
    if is_dataclass(cls):
        return tuple(f.name for f in fields(cls))
    if isinstance(cls, EnumType):
        members: list[Any] = list(cls)
        return tuple((m.name, m.value) for m in members)
    code = getattr(vars(cls).get("__init__"), "__code__", None)
    return None if code is None else code.co_varnames[: code.co_argcount]


def _spec_classes() -> dict[type, str]:
    """Every class defined in the spec modules, with its qualified name."""
    classes = {}
    for name in SPEC_MODULES:
        __import__(name)  # importlib.import_module, without importing importlib
        module = sys.modules[name]
        for value in vars(module).values():
            if isinstance(value, type) and value.__module__ == name:
                classes[value] = f"{name}.{value.__qualname__}"
    return classes


def signature() -> bytes:
    """A checksum of the format and of every spec class's shape."""
    global _signature
    if _signature is None:
        shapes = sorted(
            (qualname, repr(_class_signature(cls)))
            for cls, qualname in _spec_classes().items()
        )
        text = repr((FORMAT, shapes)).encode()
        # tells apart runtimes, not adversaries (the bytes are in code already)
        _signature = zlib.crc32(text).to_bytes(4, "little") + len(text).to_bytes(
            4, "little"
        )
    return _signature


def _only_spec_classes(root: ObjectSpec) -> bool:
    """Whether everything reachable from ``root`` is plain data or a spec class."""
    known = _spec_classes()
    seen: set[int] = set()
    stack: list[Any] = [root]
    while stack:
        item = stack.pop()
        if isinstance(item, _PLAIN) or id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, (list, tuple, set, frozenset)):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif type(item) not in known:
            return False
        elif not isinstance(type(item), EnumType):
            stack.extend(vars(item).values())
    return True


def pack(spec: ObjectSpec) -> bytes | None:
    """The spec as bytes for :func:`unpack`; None when it holds something else than
    spec classes and plain data (then the generator embeds the object alone)."""
    if not _only_spec_classes(spec):
        return None
    import pickle

    data = pickle.dumps(spec, protocol=pickle.HIGHEST_PROTOCOL)
    return zlib.compress(signature() + data, 9)


def unpack(data: bytes) -> ObjectSpec | None:
    """A new spec from :func:`pack`'s bytes (each call a new one: opening changes
    it), or None when they were packed by a runtime whose spec classes differ."""
    try:
        raw = zlib.decompress(data)
    except zlib.error:
        return None
    expected = signature()
    if raw[: len(expected)] != expected:
        return None
    spec = _loads(raw[len(expected) :])
    return spec if isinstance(spec, ObjectSpec) else None
