"""Maps: the description before load, typed dict-like access after.

A :class:`Map` is made from its :class:`~.spec.MapSpec` when an object is opened; its
type, sizes and flags can change until load gives it a kernel fd.  A map can also be
opened on its own: :meth:`Map.from_pinned`, :meth:`Map.from_id`, :meth:`Map.create`.

Keys and values are instances of ``key_type``/``value_type`` (the generated ctypes
classes), Python ints where those are integer types, bytes where no type is known.
The generic parameters are what Python sees: ``HashMap[int, stats]``.

Speed: single-element operations stage keys and values in buffers made once per map
and thread, and call a ``bpf()`` bound to one ``bpf_attr``; ``items()``, ``keys()``,
``values()`` and ``clear()`` use the batch commands where the kernel has them.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import os
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence

from ..btf.btf import AbstractBtf
from ..cdata.codec import Codec, FdCodec, PerCpuCodec, btf_scalar_ctype
from ..closing import Closing
from ..errors import (
    MapError,
    ObjectError,
    describe_errno,
    for_errno,
    privilege_hint,
)
from ..features.memlock import ensure_memlock
from ..features.requirements import HASH_LOOKUP_AND_DELETE, missing_map_type
from ..kernel.cpus import possible_cpus
from ..lean.hints import (
    TYPE_CHECKING,
    Any,
    Generic,
    NoReturn,
    Self,
    TypeVar,
    Unpack,
    overload,
)
from ..obj.map_types import (
    FD_VALUE_TYPES,
    INDEX_KEY_TYPES,
    MAP_CLASS_MODULES,
    MAP_IN_MAP_TYPES,
    PERCPU_TYPES,
    map_class_name,
)
from ..obj.spec import MapSpec
from ..sys import commands as cmd
from ..uapi.bpf import Cmd, MapType, UpdateFlag
from .info import MapInfo, btf_scalar_types, open_pinned_map, read_map_info

if TYPE_CHECKING:
    import numpy

    from . import histogram

K = TypeVar("K")
V = TypeVar("V")

PIN_BY_NAME = 1  # LIBBPF_PIN_BY_NAME

_ERROR_HINTS = {
    errno.E2BIG: " (the map is full: raise max_entries before load)",
    errno.EEXIST: " (the key exists and the update asked for a new one)",
}


def pin_path_for(spec: MapSpec, pin_root: str) -> str | None:
    """Where ``__uint(pinning, LIBBPF_PIN_BY_NAME)`` pins a map: ``pin_root/name``,
    as libbpf does, with its periods made ``_`` (bpffs refuses them; libbpf's
    ``bpf_object__pin_maps`` does the same).  A name that would leave ``pin_root``
    (a ``/`` in it) is refused."""
    if spec.pinning == 0:
        return None
    if spec.pinning != PIN_BY_NAME:
        raise MapError(f"map {spec.name!r}: unknown pinning value {spec.pinning}")
    if not spec.name or "/" in spec.name or "\0" in spec.name:
        raise ObjectError(
            f"map {spec.name!r}: pinned by name, but its name is no file name"
        )
    return os.path.join(pin_root, spec.name.replace(".", "_"))


class _ElemOps:
    """One thread's staging buffers and bound syscalls for single-element work.

    ``attr`` points at ``key`` and ``value`` once and for all; an operation writes
    the key (and value) into them and calls one of the bound commands.
    """

    __slots__ = (
        "attr",
        "call",
        "delete",
        "delete_attr",
        "get_value",
        "key",
        "key_view",
        "lookup",
        "lookup_and_delete",
        "put_key",
        "put_value",
        "update",
        "value",
        "value_view",
    )

    def __init__(self, fd: int, key: Codec, value: Codec) -> None:
        self.key: Any = key.new_buffer()
        self.value: Any = value.new_buffer()
        self.attr = cmd.elem_attr()
        self.attr.map_fd = fd
        # A map without keys (queue, stack, bloom filter) wants a NULL key.
        self.attr.key = ctypes.addressof(self.key) if key.size else 0
        self.attr.value = ctypes.addressof(self.value) if value.size else 0
        # call(*lookup) and so on: bpf() with ready arguments.
        self.call = cmd.elem_call
        self.lookup = cmd.elem_args(Cmd.MAP_LOOKUP_ELEM, self.attr)
        self.update = cmd.elem_args(Cmd.MAP_UPDATE_ELEM, self.attr)
        # DELETE_ELEM wants every field after the key zero.
        self.delete_attr = cmd.elem_attr()
        self.delete_attr.map_fd, self.delete_attr.key = fd, self.attr.key
        self.delete = cmd.elem_args(Cmd.MAP_DELETE_ELEM, self.delete_attr)
        self.lookup_and_delete = cmd.elem_args(
            Cmd.MAP_LOOKUP_AND_DELETE_ELEM, self.attr
        )
        # Integers go in and out through memoryviews: one C-level store that checks
        # type and range (TypeError, ValueError: then the general path explains).
        self.key_view: Any = key.int_view(self.key)
        self.value_view: Any = value.int_view(self.value)
        # Keyless maps pass no key at all.
        self.put_key: Callable[[object], None] = (
            functools.partial(key.put, self.key) if key.size else _no_key
        )
        self.put_value: Callable[[object], None] = functools.partial(
            value.put, self.value
        )
        self.get_value: Callable[[], Any] = functools.partial(value.get, self.value)


def _no_key(_key: object) -> None:
    pass


class MapItems(Sequence[tuple[K, V]]):
    """A snapshot of a map's entries: ``(key, value)`` pairs over the keys and values
    read in batches, a pair made only when one is asked for (as ``dict.items()``)."""

    __slots__ = ("_keys", "_values")

    def __init__(self, keys: list[K], values: list[V]) -> None:
        self._keys = keys
        self._values = values

    def __len__(self) -> int:
        return len(self._keys)

    @overload
    def __getitem__(self, index: int) -> tuple[K, V]: ...

    @overload
    def __getitem__(self, index: slice) -> list[tuple[K, V]]: ...

    def __getitem__(self, index: int | slice) -> tuple[K, V] | list[tuple[K, V]]:
        if isinstance(index, slice):
            return list(zip(self._keys[index], self._values[index], strict=True))
        return self._keys[index], self._values[index]

    def __iter__(self) -> Iterator[tuple[K, V]]:
        return zip(self._keys, self._values, strict=True)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (MapItems, list, tuple)):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"MapItems({list(self)!r})"


class Map(Closing, Generic[K, V]):
    """One BPF map: dict-like access by key, typed by its key and value classes."""

    # The map classes by name, registered by this package's __init__ (which imports
    # them all); obj.map_types names the class of each map type.
    @staticmethod
    def class_for_type(map_type: MapType) -> type[Map[Any, Any]]:
        """The class that represents maps of ``map_type`` (its module imported now,
        by name: the map modules import this one)."""
        name = map_class_name(map_type)
        module = f"{__package__}.{MAP_CLASS_MODULES[name]}"
        cls: type[Map[Any, Any]] = getattr(__import__(module, None, None, [name]), name)
        return cls

    @staticmethod
    def for_spec(spec: MapSpec, btf: AbstractBtf | None = None) -> Map[Any, Any]:
        """The map object for a map of an object file.  With the object's BTF,
        integer keys and values read as Python ints without any generated class."""
        key_type = value_type = None
        if btf is not None and spec.datasec is None:
            key_type = btf_scalar_ctype(btf, spec.btf_key_type_id)
            value_type = btf_scalar_ctype(btf, spec.btf_value_type_id)
        return Map.class_for_type(spec.type)(spec, key_type, value_type)

    def __init__(
        self, spec: MapSpec, key_type: Any = None, value_type: Any = None
    ) -> None:
        self.spec = spec
        self._key_type = key_type
        self._value_type = value_type
        self._fd: int | None = None
        self._codecs_cache: tuple[Codec, Codec] | None = None
        self._local = threading.local()  # .ops: this thread's _ElemOps
        self._batch_unsupported: set[Cmd] = set()
        self._finalizer: weakref.finalize[[int], Map[Any, Any]] | None = None
        self.pin_path: str | None = None  # where pin() pins, and load reuses a pin
        self.pinned = False
        self.inner_map: Map[Any, Any] | None = None  # template for map-in-map

    # -- types --------------------------------------------------------------------------

    @property
    def key_type(self) -> Any:
        """The ctypes class of keys (None: bytes)."""
        return self._key_type

    @key_type.setter
    def key_type(self, value: Any) -> None:
        self._key_type = value
        self._retype()

    @property
    def value_type(self) -> Any:
        """The ctypes class of values, or of one CPU's value in a per-CPU map."""
        return self._value_type

    @value_type.setter
    def value_type(self, value: Any) -> None:
        self._value_type = value
        self._retype()

    def set_element_types(self, key_type: Any, value_type: Any) -> None:
        """Type keys and values as a generated skeleton describes them."""
        self.key_type, self.value_type = key_type, value_type

    def _retype(self) -> None:
        self._codecs_cache = None
        self._local = threading.local()

    def _codecs(self) -> tuple[Codec, Codec]:
        if self._codecs_cache is None:
            what = f"map {self.name}"
            key_type = self._key_type
            if key_type is None and self.spec.type in INDEX_KEY_TYPES:
                key_type = ctypes.c_uint32 if self.spec.key_size == 4 else None
            key = Codec(key_type, self.spec.key_size, f"{what} key")
            value = self._value_codec(f"{what} value")
            self._codecs_cache = (key, value)
        return self._codecs_cache

    def _value_codec(self, what: str) -> Codec:
        spec = self.spec
        if spec.type in PERCPU_TYPES:
            element = Codec(self._value_type, spec.value_size, what)
            return PerCpuCodec(element, possible_cpus())
        if spec.type in FD_VALUE_TYPES:
            return FdCodec(self._value_type, spec.value_size, what)
        return Codec(self._value_type, spec.value_size, what)

    # -- before load --------------------------------------------------------------------

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
        self._codecs_cache = None

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

    @key_size.setter
    def key_size(self, value: int) -> None:
        self._before_load("key_size")
        self.spec.key_size = int(value)
        self.spec.btf_key_type_id = 0  # the BTF type no longer describes the key
        self._codecs_cache = None

    @property
    def value_size(self) -> int:
        return self.spec.value_size

    @value_size.setter
    def value_size(self, value: int) -> None:
        self._before_load("value_size")
        self.spec.value_size = int(value)
        self.spec.btf_value_type_id = 0  # the BTF type no longer describes the value
        self._codecs_cache = None

    @property
    def flags(self) -> int:
        return self.spec.flags

    @flags.setter
    def flags(self, value: int) -> None:
        self._before_load("flags")
        self.spec.flags = int(value)

    @property
    def autocreate(self) -> bool:
        """Whether load() creates this map (libbpf's autocreate; a struct_ops map of
        ``SEC("?.struct_ops")`` starts without)."""
        return self.spec.autocreate

    @autocreate.setter
    def autocreate(self, value: bool) -> None:
        self._before_load("autocreate")
        self.spec.autocreate = bool(value)

    # libbpf's spellings of the setters above.
    def set_type(self, value: MapType) -> None:
        self.type = value

    def set_max_entries(self, value: int) -> None:
        self.max_entries = value

    def set_key_size(self, value: int) -> None:
        self.key_size = value

    def set_value_size(self, value: int) -> None:
        self.value_size = value

    def set_inner_map(self, template: Map[Any, Any]) -> None:
        """The template of a map-in-map's inner maps, instead of the one declared
        with ``__array(values, ...)``: any map of the wanted type and sizes."""
        self._before_load("the inner map")
        if self.spec.type not in MAP_IN_MAP_TYPES:
            raise MapError(f"map {self.name} is not a map of maps")
        self.inner_map = template

    def _before_load(self, what: str) -> None:
        if self._fd is not None:
            raise MapError(f"map {self.name}: {what} can only be changed before load")

    # -- the fd ---------------------------------------------------------------------------

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
        self._codecs_cache = None
        self._local = threading.local()

    def _ops(self) -> _ElemOps:
        """This thread's buffers for single-element operations (made on first use:
        maps read otherwise, such as ring buffers, never make them)."""
        try:
            return self._local.ops  # type: ignore[no-any-return]
        except AttributeError:
            key, value = self._codecs()
            ops = self._local.ops = _ElemOps(self.fd, key, value)
            return ops

    def close(self) -> None:
        if self._finalizer is not None:
            self._finalizer.detach()
            self._finalizer = None
        if self._fd is not None:
            fd, self._fd = self._fd, None
            self._local = threading.local()
            os.close(fd)

    # -- maps of their own ----------------------------------------------------------------

    @classmethod
    def create(
        cls,
        map_type: MapType,
        key_size: int,
        value_size: int,
        max_entries: int,
        *,
        name: str = "",
        flags: int = 0,
        map_extra: int = 0,
        inner_map: Map[Any, Any] | None = None,
        key_type: Any = None,
        value_type: Any = None,
    ) -> Self:
        """A new map, owned by the returned object (closed with it)."""
        ensure_memlock()
        try:
            fd = cmd.map_create(
                map_type,
                key_size,
                value_size,
                max_entries,
                flags=flags,
                name=name,
                map_extra=map_extra,
                inner_map_fd=inner_map.fd if inner_map is not None else 0,
            )
        except OSError as exc:
            what = f"create map {name or MapType(map_type).name}"
            missing = missing_map_type(map_type, exc.errno or 0)
            if missing is not None:
                raise MapError(f"{what}: {missing}", errno=exc.errno or 0) from None
            raise _map_error(what, exc) from None
        return cls._adopt(fd, key_type, value_type)

    @classmethod
    def from_pinned(
        cls, path: str, *, key_type: Any = None, value_type: Any = None
    ) -> Self:
        """Open the map pinned at ``path`` in bpffs."""
        try:
            fd = open_pinned_map(path)
        except OSError as exc:
            raise _map_error(f"open pinned map {path}", exc) from None
        return cls._adopt(fd, key_type, value_type, pin_path=path)

    @classmethod
    def from_id(
        cls, map_id: int, *, key_type: Any = None, value_type: Any = None
    ) -> Self:
        """Open the map with this kernel id (as ``bpftool map`` lists them)."""
        try:
            fd = cmd.fd_by_id(Cmd.MAP_GET_FD_BY_ID, map_id)
        except OSError as exc:
            raise _map_error(f"open map id {map_id}", exc) from None
        return cls._adopt(fd, key_type, value_type)

    @classmethod
    def _adopt(
        cls, fd: int, key_type: Any, value_type: Any, pin_path: str | None = None
    ) -> Self:
        """Wrap an fd we own in the class its kernel type calls for."""
        try:
            info = read_map_info(fd)
            if not isinstance(info.type, MapType):
                raise MapError(f"map {info.name}: unknown map type {info.type}")
            chosen = Map.class_for_type(info.type)
            if not issubclass(chosen, cls):
                kind = getattr(info.type, "name", str(info.type))
                raise MapError(
                    f"map {info.name or info.id} is a {kind} map, not a {cls.__name__}"
                )
        except BaseException as exc:
            os.close(fd)
            if isinstance(exc, OSError):
                raise _map_error("read map info", exc) from None
            raise
        spec = MapSpec(
            name=info.name,
            type=MapType(info.type),
            key_size=info.key_size,
            value_size=info.value_size,
            max_entries=info.max_entries,
            flags=info.flags,
            map_extra=info.map_extra,
        )
        if key_type is None or value_type is None:
            btf_key, btf_value = btf_scalar_types(info)
            key_type = btf_key if key_type is None else key_type
            value_type = btf_value if value_type is None else value_type
        m = chosen(spec, key_type, value_type)
        m._set_fd(fd)
        m._finalizer = weakref.finalize(m, os.close, fd)
        m.pin_path = pin_path
        m.pinned = pin_path is not None
        return m

    def info(self) -> MapInfo:
        try:
            return read_map_info(self.fd)
        except OSError as exc:
            raise self._error("info", exc.errno or 0) from None

    @property
    def id(self) -> int:
        return self.info().id

    # -- pinning --------------------------------------------------------------------------

    def pin(self, path: str | None = None) -> None:
        """Pin in bpffs at ``path`` (default: ``pin_path``) so the map outlives us."""
        target = path or self.pin_path
        if target is None:
            raise MapError(f"map {self.name}: no pin path given and none set")
        if self.pinned and target == self.pin_path:
            return
        try:
            cmd.obj_pin(self.fd, target)
        except OSError as exc:
            raise self._error(f"pin at {target}", exc.errno or 0) from None
        self.pin_path = target
        self.pinned = True

    def unpin(self, path: str | None = None) -> None:
        target = path or self.pin_path
        if target is None:
            raise MapError(f"map {self.name}: no pin path given and none set")
        try:
            os.unlink(target)
        except OSError as exc:
            raise self._error(f"unpin {target}", exc.errno or 0) from None
        if target == self.pin_path:
            self.pinned = False

    # -- errors ---------------------------------------------------------------------------

    def _error(self, what: str, code: int) -> MapError:
        cls = for_errno(MapError, code)
        hint = privilege_hint(code) or _ERROR_HINTS.get(code, "")
        return cls(f"map {self.name}: {what}: {describe_errno(code)}{hint}", errno=code)

    def _failure(self, what: str, key: object) -> Exception:
        """The exception for a bound call that returned < 0."""
        code = ctypes.get_errno()
        if code == errno.ENOENT:
            return KeyError(key)
        return self._error(what, code)

    # -- single elements (the hot paths: keep them flat) ----------------------------------

    # The three single-element operations below inline the same key (and value)
    # staging on purpose: a helper call per operation costs ~5% of a lookup, and
    # these are the hot path the benchmark holds within 2x of C.

    def __getitem__(self, key: K) -> V:
        try:
            ops: _ElemOps = self._local.ops
        except AttributeError:
            ops = self._ops()
        view = ops.key_view
        if view is not None:
            try:
                view[0] = key
            except (TypeError, ValueError):
                ops.put_key(key)
        else:
            ops.put_key(key)
        if ops.call(*ops.lookup) < 0:
            raise self._failure("lookup", key)
        view = ops.value_view
        if view is not None:
            return view[0]  # type: ignore[no-any-return]
        return ops.get_value()  # type: ignore[no-any-return]

    def __setitem__(self, key: K, value: V) -> None:
        try:
            ops: _ElemOps = self._local.ops
        except AttributeError:
            ops = self._ops()
        view = ops.key_view
        if view is not None:
            try:
                view[0] = key
            except (TypeError, ValueError):
                ops.put_key(key)
        else:
            ops.put_key(key)
        view = ops.value_view
        if view is not None:
            try:
                view[0] = value
            except (TypeError, ValueError):
                ops.put_value(value)
        else:
            ops.put_value(value)
        if ops.call(*ops.update) < 0:
            raise self._failure("update", key)

    def __delitem__(self, key: K) -> None:
        try:
            ops: _ElemOps = self._local.ops
        except AttributeError:
            ops = self._ops()
        view = ops.key_view
        if view is not None:
            try:
                view[0] = key
            except (TypeError, ValueError):
                ops.put_key(key)
        else:
            ops.put_key(key)
        if ops.call(*ops.delete) < 0:
            raise self._failure("delete", key)

    def get(self, key: K, default: V | None = None) -> V | None:
        try:
            return self[key]
        except KeyError:
            return default

    def __contains__(self, key: object) -> bool:
        try:
            self[key]  # type: ignore[index]
        except KeyError:
            return False
        return True

    def lookup(self, key: K, flags: int = 0) -> V | None:
        """The value of ``key`` or None; ``flags=UpdateFlag.LOCK`` reads a value
        holding a ``bpf_spin_lock`` under that lock."""
        if not flags:
            return self.get(key)
        ops = self._ops()
        ops.put_key(key)
        if self._call_with_flags(ops, ops.lookup, flags) < 0:
            error = self._failure("lookup", key)
            if isinstance(error, KeyError):
                return None
            raise error
        return ops.get_value()  # type: ignore[no-any-return]

    def update(self, key: K, value: V, flags: int = UpdateFlag.ANY) -> None:
        """Set ``key``; ``flags``: ``UpdateFlag.NOEXIST`` (only a new key),
        ``EXIST`` (only an existing key: KeyError otherwise), ``LOCK``."""
        if not flags:
            self[key] = value
        else:
            self._put(key, value, flags)

    def _put(self, key: object, value: object, flags: int) -> None:
        """Set an entry the general way (any flags, no fast path)."""
        ops = self._ops()
        ops.put_key(key)
        ops.put_value(value)
        if self._call_with_flags(ops, ops.update, flags) < 0:
            raise self._failure("update", key)

    @staticmethod
    def _call_with_flags(ops: _ElemOps, args: tuple[object, ...], flags: int) -> int:
        ops.attr.flags = flags
        try:
            return ops.call(*args)  # type: ignore[no-any-return]
        finally:
            ops.attr.flags = 0

    def delete(self, key: K) -> bool:
        """Remove ``key``; False when it was not there."""
        ops = self._ops()
        ops.put_key(key)
        if ops.call(*ops.delete) < 0:
            error = self._failure("delete", key)
            if isinstance(error, KeyError):
                return False
            raise error
        return True

    def lookup_and_delete(self, key: K) -> V:
        """Read and remove ``key`` in one step (KeyError when it is not there)."""
        ops = self._ops()
        ops.put_key(key)
        if ops.call(*ops.lookup_and_delete) < 0:
            error = self._failure("lookup and delete", key)
            if isinstance(error, MapError) and self._lacks_lookup_and_delete():
                raise MapError(
                    f"map {self.name}: lookup and delete: "
                    f"{HASH_LOOKUP_AND_DELETE.message()}",
                    errno=error.errno or 0,
                ) from None
            raise error
        return ops.get_value()  # type: ignore[no-any-return]

    def _lacks_lookup_and_delete(self) -> bool:
        """The kernel refused because hash maps take no lookup-and-delete (< 5.14):
        a probe decides."""
        from ..features.maps import has_hash_lookup_and_delete

        return self.type not in (MapType.QUEUE, MapType.STACK) and (
            not has_hash_lookup_and_delete()
        )

    def pop(self, key: K, default: V | None = None) -> V | None:
        try:
            return self.lookup_and_delete(key)
        except KeyError:
            return default

    # -- whole map ------------------------------------------------------------------------

    def items(self) -> MapItems[K, V]:
        """Every entry, in kernel order (a snapshot: safe while the kernel deletes)."""
        return MapItems(*self._read_all(Cmd.MAP_LOOKUP_BATCH))

    def keys(self) -> list[K]:
        return self._read_all(Cmd.MAP_LOOKUP_BATCH)[0]

    def values(self) -> list[V]:
        return self._read_all(Cmd.MAP_LOOKUP_BATCH)[1]

    def to_numpy(self) -> tuple[numpy.ndarray[Any, Any], numpy.ndarray[Any, Any]]:
        """Every entry as two numpy arrays, ``(keys, values)``, of the key and value
        types' dtypes: read in batches, no Python object per entry (needs numpy:
        the ``[numpy]`` extra)."""
        from .arrays import map_arrays

        return map_arrays(self)

    def __iter__(self) -> Iterator[K]:
        return iter(self.keys())

    def pop_items(self) -> MapItems[K, V]:
        """Read and delete every entry in one pass (``LOOKUP_AND_DELETE_BATCH``): an
        increment the kernel makes meanwhile is either returned or stays in the map."""
        return MapItems(*self._read_all(Cmd.MAP_LOOKUP_AND_DELETE_BATCH))

    def clear(self) -> None:
        """Delete every entry."""
        self.pop_items()

    def update_batch(
        self,
        entries: Mapping[K, V] | Iterable[tuple[K, V]],
        flags: int = UpdateFlag.ANY,
    ) -> None:
        """Set many entries with one ``UPDATE_BATCH`` call where the kernel can."""
        pairs = list(entries.items() if isinstance(entries, Mapping) else entries)
        from .batch import write_all

        write_all(self, pairs, flags)

    def delete_batch(self, keys: Iterable[K]) -> int:
        """Delete these keys (``DELETE_BATCH`` where the kernel can); returns how
        many were there."""
        from .batch import delete_all

        return delete_all(self, list(keys))

    def _read_all(self, command: Cmd) -> tuple[list[Any], list[Any]]:
        """(keys, values) of every entry: a batch read (or read and delete)."""
        from .batch import read_all

        return read_all(self, command)

    # -- bcc's conveniences -------------------------------------------------------------

    def print_log2_hist(
        self, val_type: str = "value", **options: Unpack[histogram.HistOptions]
    ) -> None:
        """Print this map of log2 slots as bcc does (see :mod:`.histogram`)."""
        from .histogram import print_log2_hist

        print_log2_hist(self, val_type, **options)

    def print_linear_hist(
        self, val_type: str = "value", **options: Unpack[histogram.HistOptions]
    ) -> None:
        """Print this map of values → counts as bcc does (see :mod:`.histogram`)."""
        from .histogram import print_linear_hist

        print_linear_hist(self, val_type, **options)

    def __repr__(self) -> str:
        state = f"fd={self._fd}" if self._fd is not None else "not loaded"
        return f"<{type(self).__name__} {self.name} {self.spec.type.name} {state}>"


class KeylessMap(Map[Any, V]):
    """Maps without keys (queues, ring buffers...): dict access makes no sense, so
    it says what to use instead rather than failing in the kernel."""

    verbs = "push/pop/peek"

    def _no_keys(self, *_args: object) -> NoReturn:
        kind = self.spec.type.name.lower()
        raise MapError(f"{kind} map {self.name} has no keys; use {self.verbs}")

    __getitem__ = __setitem__ = __delitem__ = _no_keys

    def _read_all(self, command: Cmd) -> tuple[list[Any], list[Any]]:
        self._no_keys()


def _map_error(what: str, exc: OSError) -> MapError:
    code = exc.errno or 0
    cls = for_errno(MapError, code)
    return cls(f"{what}: {describe_errno(code)}{privilege_hint(code)}", errno=code)


class HashMap(Map[K, V]):
    """``BPF_MAP_TYPE_HASH`` and ``LRU_HASH``."""

    def __len__(self) -> int:
        """The number of entries (counted: the kernel keeps no count)."""
        return len(self.keys())


class ArrayMap(Map[K, V]):
    """``BPF_MAP_TYPE_ARRAY``: every index below ``max_entries`` always exists."""

    def __len__(self) -> int:
        return self.spec.max_entries

    def clear(self) -> None:
        """Zero every element (array elements cannot be deleted)."""
        _, value_codec = self._codecs()
        count = self.spec.max_entries
        zero = bytes(value_codec.size)
        self.update_batch((i, zero) for i in range(count))  # type: ignore[misc]

    def pop_items(self) -> MapItems[K, V]:
        """Read every element, then zero it."""
        items = self.items()
        self.clear()
        return items
