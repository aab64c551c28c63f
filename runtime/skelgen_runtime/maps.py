"""Maps: the object-side description before load, typed dict-like access after.

A :class:`Map` is made from its :class:`~.spec.MapSpec` when the object is opened;
its size and type can be changed until load, which gives it a kernel fd.  Keys and
values are ctypes instances of the map's key/value types (the generated classes), or
plain ints where the type is an integer, or bytes when no type is known.
"""

from __future__ import annotations

import ctypes
import errno
import os
from collections.abc import Iterator
from typing import Any, Generic, TypeVar

from .errors import MapError, MapPermissionError, describe_errno, privilege_hint
from .spec import MapSpec
from .sys import commands as cmd
from .sys.consts import MapType, UpdateFlag

K = TypeVar("K")
V = TypeVar("V")


def _raw_type(size: int) -> Any:
    return ctypes.c_uint8 * size


class Map(Generic[K, V]):
    """One BPF map of a loaded or loadable object."""

    def __init__(self, spec: MapSpec, key_type: Any = None, value_type: Any = None) -> None:
        self.spec = spec
        self._fd: int | None = None
        self.key_type: Any = key_type
        self.value_type: Any = value_type

    # -- before load ------------------------------------------------------------------

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def type(self) -> MapType:
        return self.spec.type

    @type.setter
    def type(self, value: MapType) -> None:
        self._before_load("type")
        self.spec.type = MapType(value)

    @property
    def max_entries(self) -> int:
        return self.spec.max_entries

    @max_entries.setter
    def max_entries(self, value: int) -> None:
        self._before_load("max_entries")
        self.spec.max_entries = int(value)

    @property
    def key_size(self) -> int:
        return self.spec.key_size

    @property
    def value_size(self) -> int:
        return self.spec.value_size

    @value_size.setter
    def value_size(self, value: int) -> None:
        self._before_load("value_size")
        self.spec.value_size = int(value)
        self.spec.btf_value_type_id = 0  # the BTF type no longer describes the value

    def _before_load(self, what: str) -> None:
        if self._fd is not None:
            raise MapError(f"map {self.name}: {what} can only be changed before load")

    # -- after load -------------------------------------------------------------------

    @property
    def fd(self) -> int:
        if self._fd is None:
            raise MapError(f"map {self.name} is not loaded")
        return self._fd

    @property
    def loaded(self) -> bool:
        return self._fd is not None

    def _set_fd(self, fd: int) -> None:
        self._fd = fd

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def _error(self, what: str, exc: OSError) -> MapError:
        code = exc.errno or 0
        cls = MapPermissionError if code == errno.EPERM else MapError
        return cls(f"map {self.name}: {what}: {describe_errno(code)}{privilege_hint(code)}",
                   errno=code)

    def _key(self, key: Any) -> Any:
        return _coerce(key, self.key_type, self.spec.key_size, f"map {self.name} key")

    def _value(self, value: Any) -> Any:
        return _coerce(value, self.value_type, self.spec.value_size, f"map {self.name} value")

    def _new_value(self) -> Any:
        return (self.value_type or _raw_type(self.spec.value_size))()

    def _out(self, value: Any) -> Any:
        """What lookups return: an int for integer types, bytes for untyped maps."""
        if self.value_type is None:
            return bytes(value)
        if isinstance(value, ctypes._SimpleCData):
            return value.value
        return value

    def lookup(self, key: K | int) -> V | None:
        k = self._key(key)
        v = self._new_value()
        try:
            cmd.map_lookup(self.fd, ctypes.addressof(k), ctypes.addressof(v))
        except OSError as exc:
            if exc.errno == errno.ENOENT:
                return None
            raise self._error("lookup", exc) from None
        out: V = self._out(v)
        return out

    def update(self, key: K | int, value: V | int, flags: int = UpdateFlag.ANY) -> None:
        k = self._key(key)
        v = self._value(value)
        try:
            cmd.map_update(self.fd, ctypes.addressof(k), ctypes.addressof(v), flags)
        except OSError as exc:
            raise self._error("update", exc) from None

    def delete(self, key: K | int) -> None:
        k = self._key(key)
        try:
            cmd.map_delete(self.fd, ctypes.addressof(k))
        except OSError as exc:
            if exc.errno == errno.ENOENT:
                raise KeyError(key) from None
            raise self._error("delete", exc) from None

    def __getitem__(self, key: K | int) -> V:
        value = self.lookup(key)
        if value is None:
            raise KeyError(key)
        return value

    def __setitem__(self, key: K | int, value: V | int) -> None:
        self.update(key, value)

    def __delitem__(self, key: K | int) -> None:
        self.delete(key)

    def __contains__(self, key: object) -> bool:
        return self.lookup(key) is not None  # type: ignore[arg-type]

    def get(self, key: K | int, default: V | None = None) -> V | None:
        value = self.lookup(key)
        return default if value is None else value

    def keys(self) -> Iterator[K]:
        """Keys in kernel order; safe while the kernel deletes entries."""
        key_cls = self.key_type or _raw_type(self.spec.key_size)
        current = None
        while True:
            nxt = key_cls()
            try:
                cmd.map_get_next_key(
                    self.fd, ctypes.addressof(current) if current is not None else 0,
                    ctypes.addressof(nxt),
                )
            except OSError as exc:
                if exc.errno == errno.ENOENT:
                    return
                raise self._error("iterate", exc) from None
            current = nxt
            yield self._out_key(nxt)

    def _out_key(self, key: Any) -> K:
        if self.key_type is None:
            return bytes(key)  # type: ignore[return-value]
        if isinstance(key, ctypes._SimpleCData):
            return key.value  # type: ignore[no-any-return]
        return key  # type: ignore[no-any-return]

    def __iter__(self) -> Iterator[K]:
        return self.keys()

    def items(self) -> Iterator[tuple[K, V]]:
        for key in self.keys():
            value = self.lookup(key)
            if value is not None:
                yield key, value

    def values(self) -> Iterator[V]:
        for _, value in self.items():
            yield value

    def __repr__(self) -> str:
        state = f"fd={self._fd}" if self._fd is not None else "not loaded"
        return f"<{type(self).__name__} {self.name} {self.spec.type.name} {state}>"


def _coerce(value: Any, ctype: Any, size: int, what: str) -> Any:
    """A ctypes object of ``size`` bytes holding ``value``."""
    if ctype is not None:
        if isinstance(value, ctype):
            return value
        if isinstance(value, int) and issubclass(ctype, ctypes._SimpleCData):
            return ctype(value)
    if isinstance(value, (bytes, bytearray)):
        if len(value) != size:
            raise MapError(f"{what}: {len(value)} bytes given, {size} expected")
        return (ctypes.c_uint8 * size).from_buffer_copy(value)
    if isinstance(value, ctypes.Array) or hasattr(value, "_fields_"):
        if ctypes.sizeof(value) != size:
            raise MapError(f"{what}: {ctypes.sizeof(value)} bytes given, {size} expected")
        return value
    if isinstance(value, int) and ctype is None and size in (1, 2, 4, 8):
        return (ctypes.c_uint8 * size).from_buffer_copy(value.to_bytes(size, "little"))
    raise MapError(f"{what}: cannot use {type(value).__name__} here")


class HashMap(Map[K, V]):
    """``BPF_MAP_TYPE_HASH`` and ``LRU_HASH``."""


class ArrayMap(Map[K, V]):
    """``BPF_MAP_TYPE_ARRAY``: every index in range always exists."""

    def __len__(self) -> int:
        return self.spec.max_entries
