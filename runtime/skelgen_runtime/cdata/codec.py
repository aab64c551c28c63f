"""How map keys and values travel between Python objects and the kernel's bytes.  Pure.

A :class:`Codec` stands for one side of a map (its keys or its values): the size the
kernel stores, the ctypes buffer one element is staged in, and the conversions both
ways.  Integer (and float) ctypes travel as Python numbers, structures and arrays as
instances of their class, untyped data as ``bytes``.  Per-CPU maps hold one value per
possible CPU, each padded to 8 bytes (:class:`PerCpuCodec`); reading one gives a
:class:`PerCpuValues` list with bcc's ``sum()`` and ``max()``.
"""

from __future__ import annotations

import builtins
import contextlib
import ctypes
import gc
import struct
from collections.abc import Callable, Iterator, Sequence

from ..btf import types as bt
from ..btf.btf import AbstractBtf
from ..errors import MapError
from ..lean.hints import Any, TypeVar
from .types import BitField, is_char_array

T = TypeVar("T")

_INT_CODES = "bBhHiIlLqQ"
_CTYPES_DATA = (ctypes._SimpleCData, ctypes.Structure, ctypes.Union, ctypes.Array)
_SCALAR_CODES = _INT_CODES + "?fd"

_INT_CTYPES: dict[tuple[int, bool], Any] = {
    (1, False): ctypes.c_uint8,
    (2, False): ctypes.c_uint16,
    (4, False): ctypes.c_uint32,
    (8, False): ctypes.c_uint64,
    (1, True): ctypes.c_int8,
    (2, True): ctypes.c_int16,
    (4, True): ctypes.c_int32,
    (8, True): ctypes.c_int64,
}


PAUSE_GC_FROM = 64  # new objects from which pausing the collector pays


@contextlib.contextmanager
def collector_paused(count: int) -> Iterator[None]:
    """Pause the garbage collector while ``count`` new objects are made at once.

    Thousands of allocations otherwise trigger dozens of young-generation
    collections that find nothing to free (decoded keys, values and events hold no
    cycles); one collection runs later instead.
    """
    pause = count >= PAUSE_GC_FROM and gc.isenabled()
    if pause:
        gc.disable()
    try:
        yield
    finally:
        if pause:
            gc.enable()


def round_up8(size: int) -> int:
    return (size + 7) & ~7


def is_scalar(ctype: Any) -> bool:
    """A ctypes number type (read and written as a Python int, bool or float)."""
    return (
        isinstance(ctype, type)
        and issubclass(ctype, ctypes._SimpleCData)
        and getattr(ctype, "_type_", "") in _SCALAR_CODES
    )


def btf_scalar_ctype(btf: AbstractBtf, type_id: int) -> Any | None:
    """The ctypes class of a BTF integer or enum type (through typedefs and
    qualifiers); None for anything else, which then travels as bytes."""
    if not type_id:
        return None
    item = btf[btf.resolve(type_id)]
    if isinstance(item, bt.Int):
        if item.bit_offset or item.bits != item.size * 8:
            return None
        if item.encoding & bt.IntEncoding.BOOL:
            return ctypes.c_bool
        return _INT_CTYPES.get((item.size, item.signed))
    if isinstance(item, bt.Enum):
        return _INT_CTYPES.get((item.size, item.signed))
    return None


def _type_name(value: object) -> str:
    return type(value).__name__


class Codec:
    """Keys or values of one map: ``ctype`` (None: bytes) stored in ``size`` bytes."""

    def __init__(self, ctype: Any, size: int, what: str) -> None:
        if ctype is not None and ctypes.sizeof(ctype) != size:
            raise MapError(
                f"{what}: {ctype.__name__} is {ctypes.sizeof(ctype)} bytes, "
                f"the map's are {size}"
            )
        self.ctype = ctype
        self.size = size
        self.what = what
        self.scalar = is_scalar(ctype)
        # A char array key or value (char comm[16]) travels as bytes, as the
        # generated module annotates it: all of its bytes when read (a key read back
        # must find its entry again), padded with NULs when shorter on write.
        self.chars = is_char_array(ctype)
        # The element a buffer holds: the number type itself, or raw bytes.
        self.element: Any = ctype if self.scalar else ctypes.c_char * size
        code = ctype._type_ if self.scalar else ""
        self._struct = struct.Struct("@" + code) if self.scalar else None
        # Python ints in [low, high] can be stored with a plain ``buffer.value = x``;
        # an empty range (1, 0) sends every value through :meth:`put`.
        self.low, self.high = 1, 0
        if code and code in _INT_CODES:
            bits = 8 * size
            signed = code.islower()
            self.low = -(1 << (bits - 1)) if signed else 0
            self.high = (1 << (bits - 1)) - 1 if signed else (1 << bits) - 1

    def new_buffer(self) -> Any:
        """Zeroed storage for one element."""
        return self.element()

    def int_view(self, buffer: Any) -> memoryview | None:
        """For integer types, ``buffer`` as a one-item memoryview: ``view[0] = x``
        stores an int, raising TypeError or ValueError for anything else."""
        if self.low > self.high:
            return None
        return memoryview(buffer).cast("B").cast(self.ctype._type_)

    def new_array(self, count: int) -> Any:
        """Zeroed storage for ``count`` elements, for batch operations."""
        return (self.element * count)()

    # -- Python → bytes ---------------------------------------------------------------

    def to_bytes(self, value: object) -> bytes:
        """The ``size`` bytes the kernel stores for ``value``, or a one-line MapError."""
        ctype = self.ctype
        if isinstance(value, (bytes, bytearray, memoryview)):
            data = bytes(value)
            if self.chars and len(data) < self.size:
                data = data.ljust(self.size, b"\0")
        elif self.scalar and isinstance(value, (int, float)):
            data = bytes(self._scalar(value))
        elif isinstance(value, _CTYPES_DATA):
            if ctype is not None and not isinstance(value, ctype):
                raise MapError(
                    f"{self.what}: expected {ctype.__name__}, got {_type_name(value)}"
                )
            data = bytes(value)
        elif ctype is None and isinstance(value, int) and self.size in (1, 2, 4, 8):
            try:
                data = value.to_bytes(self.size, "little", signed=value < 0)
            except OverflowError:
                raise MapError(
                    f"{self.what}: {value} does not fit in {self.size} bytes"
                ) from None
        else:
            expected = "bytes" if ctype is None or self.chars else ctype.__name__
            raise MapError(f"{self.what}: expected {expected}, got {_type_name(value)}")
        if len(data) != self.size:
            most = "at most " if self.chars else ""
            raise MapError(
                f"{self.what}: {len(data)} bytes given, {most}{self.size} expected"
            )
        return data

    def _scalar(self, value: int | float) -> Any:
        if self.low <= self.high and not self.low <= value <= self.high:
            raise MapError(
                f"{self.what}: {value} does not fit in {self.ctype.__name__}"
            )
        try:
            return self.ctype(value)
        except TypeError:
            raise MapError(
                f"{self.what}: expected {self.ctype.__name__}, got {_type_name(value)}"
            ) from None

    def put(self, buffer: Any, value: object) -> None:
        """Store ``value`` in a one-element buffer from :meth:`new_buffer`."""
        ctypes.memmove(ctypes.addressof(buffer), self.to_bytes(value), self.size)

    # -- bytes → Python ---------------------------------------------------------------

    def get(self, buffer: Any) -> Any:
        """The value held by a one-element buffer (a copy, never a view of it)."""
        if self.scalar:
            return buffer.value
        if self.ctype is None or self.chars:
            return buffer.raw
        return self.ctype.from_buffer_copy(buffer)

    def from_bytes(self, data: bytes, offset: int = 0) -> Any:
        if self._struct is not None:
            return self._struct.unpack_from(data, offset)[0]
        if self.ctype is None or self.chars:
            return data[offset : offset + self.size]
        return self.ctype.from_buffer_copy(data, offset)

    def decode_array(self, buffer: Any, count: int) -> list[Any]:
        """The first ``count`` elements of an array from :meth:`new_array`; structure
        values are views into that array, which must not be reused."""
        if count == 0:
            return []
        if self.scalar:
            raw = memoryview(buffer).cast("B")[: count * self.size]
            return raw.cast(self.ctype._type_).tolist()
        if self.ctype is None or self.chars:
            data = bytes(buffer)
            size = self.size
            return [data[i : i + size] for i in range(0, count * size, size)]
        with collector_paused(count):
            return list((self.ctype * count).from_buffer(buffer))


class PerCpuValues(list[T]):
    """The values of one key of a per-CPU map, indexed by CPU number."""

    def sum(self) -> T:
        """The total over CPUs (field by field for structures)."""
        return _combine(self, builtins.sum)  # type: ignore[no-any-return]

    def max(self) -> T:
        """The largest value over CPUs (field by field for structures)."""
        return _combine(self, builtins.max)  # type: ignore[no-any-return]


def _field_names(cls: Any) -> list[str]:
    names = [f[0] for f in cls._fields_ if not f[0].startswith("_")]
    return names + [n for n, v in vars(cls).items() if isinstance(v, BitField)]


def _combine(values: Sequence[Any], op: Callable[[Sequence[Any]], Any]) -> Any:
    first = values[0]
    if isinstance(first, (int, float)):
        return op(values)
    if isinstance(first, ctypes.Structure):
        combined = type(first)()
        for name in _field_names(type(first)):
            setattr(combined, name, _combine([getattr(v, name) for v in values], op))
        return combined
    if isinstance(first, ctypes.Array) and not isinstance(first[0], bytes):
        elements = type(first)()
        for i in range(len(first)):
            elements[i] = _combine([v[i] for v in values], op)
        return elements
    raise MapError(f"per-CPU values of type {_type_name(first)} cannot be combined")


class PerCpuCodec(Codec):
    """Values of a per-CPU map: ``ncpus`` elements, each padded to 8 bytes."""

    def __init__(self, element: Codec, ncpus: int) -> None:
        self.item = element
        self.ncpus = ncpus
        self.stride = round_up8(element.size)
        super().__init__(None, self.stride * ncpus, element.what)

    def to_bytes(self, value: object) -> bytes:
        """A sequence gives one value per CPU; a single value goes to every CPU."""
        if isinstance(value, (list, tuple)):
            if len(value) != self.ncpus:
                raise MapError(
                    f"{self.what}: {len(value)} per-CPU values given, "
                    f"{self.ncpus} expected (one per possible CPU)"
                )
            values: Sequence[object] = value
        else:
            values = [value] * self.ncpus
        pad = self.stride
        return b"".join(self.item.to_bytes(v).ljust(pad, b"\0") for v in values)

    def get(self, buffer: Any) -> PerCpuValues[Any]:
        return self.from_bytes(bytes(buffer))

    def from_bytes(self, data: bytes, offset: int = 0) -> PerCpuValues[Any]:
        item, stride = self.item, self.stride
        return PerCpuValues(
            item.from_bytes(data, offset + cpu * stride) for cpu in range(self.ncpus)
        )

    def decode_array(self, buffer: Any, count: int) -> list[Any]:
        data = bytes(buffer)
        return [self.from_bytes(data, i * self.size) for i in range(count)]


class FdCodec(Codec):
    """Values of maps that hold kernel objects (programs, maps, perf events): an
    object with an ``fd`` attribute, or an fd, is written; reading gives an id."""

    def __init__(self, ctype: Any, size: int, what: str) -> None:
        if ctype is None and size == 4:
            ctype = ctypes.c_uint32
        super().__init__(ctype, size, what)

    def to_bytes(self, value: object) -> bytes:
        fd = getattr(value, "fd", value)
        return super().to_bytes(fd)


class LpmKeyCodec(Codec):
    """LPM trie keys: ``struct { __u32 prefixlen; __u8 data[]; }``."""

    def __init__(self, base: Codec) -> None:
        super().__init__(base.ctype, base.size, base.what)

    def to_bytes(self, value: object) -> bytes:
        import ipaddress  # LPM tries only

        if isinstance(value, (ipaddress.IPv4Network, ipaddress.IPv6Network)):
            value = (value.prefixlen, value.network_address.packed)
        if isinstance(value, tuple) and len(value) == 2:
            prefixlen, data = value
            if isinstance(data, (ipaddress.IPv4Address, ipaddress.IPv6Address)):
                data = data.packed
            if not isinstance(prefixlen, int) or not isinstance(data, bytes):
                raise MapError(f"{self.what}: give (prefixlen: int, data: bytes)")
            if len(data) != self.size - 4:
                raise MapError(
                    f"{self.what}: {len(data)} bytes of data, {self.size - 4} expected"
                )
            return struct.pack("<I", prefixlen) + data
        return super().to_bytes(value)
