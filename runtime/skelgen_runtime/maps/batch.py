"""Whole-map reads and writes: the batch commands (``BPF_MAP_*_BATCH``), and one
element at a time where the kernel lacks them for a map kind.

Functions over a map (:class:`BatchableMap`: what they need of a :class:`~.map.Map`)
that the map's ``items()``, ``keys()``,
``values()``, ``pop_items()``, ``clear()``, ``update_batch()`` and ``delete_batch()``
call; a command the kernel refused once (``ENOTSUPP``) is not tried again for that map.
"""

from __future__ import annotations

import ctypes
import errno
from collections.abc import Iterator

from ..cdata.codec import Codec
from ..errors import ENOTSUPP, MapError
from ..lean.hints import Any, Protocol
from ..obj.spec import MapSpec
from ..sys import attr as a, commands as cmd
from ..uapi.bpf import Cmd

BATCH_BYTES = 4 << 20  # staging memory per batch call


class _BatchUnsupported(Exception):
    pass


class BatchableMap(Protocol):
    """What whole-map operations use of a map: its fd, codecs and sizes, the commands
    its kernel refused, and the single-element operations they fall back on."""

    _batch_unsupported: set[Cmd]

    @property
    def fd(self) -> int: ...

    @property
    def spec(self) -> MapSpec: ...

    def _codecs(self) -> tuple[Codec, Codec]: ...

    def _error(self, what: str, code: int) -> MapError: ...

    def __getitem__(self, key: Any) -> Any: ...

    def get(self, key: Any, default: Any = None) -> Any: ...

    def update(self, key: Any, value: Any, flags: int = 0) -> None: ...

    def delete(self, key: Any) -> bool: ...

    def lookup_and_delete(self, key: Any) -> Any: ...


def read_all(m: BatchableMap, command: Cmd) -> tuple[list[Any], list[Any]]:
    """(keys, values) of every entry, by ``LOOKUP_BATCH`` (or ``LOOKUP_AND_DELETE_BATCH``,
    which also deletes them)."""
    if command not in m._batch_unsupported:
        try:
            return _read_batches(m, command)
        except _BatchUnsupported:
            m._batch_unsupported.add(command)
    return _read_one_by_one(m, delete=command == Cmd.MAP_LOOKUP_AND_DELETE_BATCH)


def write_all(m: BatchableMap, pairs: list[tuple[Any, Any]], flags: int) -> None:
    if not pairs:
        return
    key_codec, value_codec = m._codecs()
    if Cmd.MAP_UPDATE_BATCH not in m._batch_unsupported:
        keys = pack(key_codec, [k for k, _ in pairs])
        values = pack(value_codec, [v for _, v in pairs])
        try:
            _batch_over(m, Cmd.MAP_UPDATE_BATCH, keys, values, len(pairs), flags)
            return
        except _BatchUnsupported:
            pass
    for key, value in pairs:
        m.update(key, value, flags)


def delete_all(m: BatchableMap, keys: list[Any]) -> int:
    """Delete ``keys``; returns how many were there."""
    if keys and Cmd.MAP_DELETE_BATCH not in m._batch_unsupported:
        packed = pack(m._codecs()[0], keys)
        try:
            return _batch_over(m, Cmd.MAP_DELETE_BATCH, packed, None, len(keys))
        except _BatchUnsupported:
            pass
    return sum(m.delete(k) for k in keys)


def pack(codec: Codec, items: list[Any]) -> Any:
    """``items`` encoded into one array of ``codec``'s elements."""
    array = codec.new_array(len(items))
    if codec.scalar and all(type(i) is int for i in items):
        if codec.low <= codec.high and not (
            codec.low <= min(items) and max(items) <= codec.high
        ):
            raise MapError(
                f"{codec.what}: a value does not fit in {codec.ctype.__name__}"
            )
        array[:] = items
        return array
    data = b"".join(codec.to_bytes(i) for i in items)
    ctypes.memmove(array, data, len(data))
    return array


def _chunk(m: BatchableMap) -> int:
    key_codec, value_codec = m._codecs()
    per_entry = max(1, key_codec.size + value_codec.size)
    return max(1, min(m.spec.max_entries, BATCH_BYTES // per_entry))


def _read_batches(m: BatchableMap, command: Cmd) -> tuple[list[Any], list[Any]]:
    key_codec, value_codec = m._codecs()
    keys_out: list[Any] = []
    values_out: list[Any] = []
    for keys, values, count in raw_batches(m, command):
        keys_out += key_codec.decode_array(keys, count)
        values_out += value_codec.decode_array(values, count)
    return keys_out, values_out


def read_all_raw(m: BatchableMap, command: Cmd) -> Iterator[tuple[Any, Any, int]]:
    """Every entry as :func:`raw_batches` gives them; where the kernel has no batch
    command for the map, one batch of every entry read one by one."""
    if command not in m._batch_unsupported:
        try:
            yield from raw_batches(m, command)
            return
        except _BatchUnsupported:
            m._batch_unsupported.add(command)
    key_codec, value_codec = m._codecs()
    keys, values = _read_one_by_one(
        m, delete=command == Cmd.MAP_LOOKUP_AND_DELETE_BATCH
    )
    yield pack(key_codec, keys), pack(value_codec, values), len(keys)


def raw_batches(m: BatchableMap, command: Cmd) -> Iterator[tuple[Any, Any, int]]:
    """``LOOKUP_BATCH`` (or ``LOOKUP_AND_DELETE_BATCH``) over the whole map: (keys,
    values, count) per call, the arrays as the kernel filled them, undecoded."""
    key_codec, value_codec = m._codecs()
    chunk = _chunk(m)
    # The resume token: a bucket index for hash maps, a key for the others.
    token = ctypes.create_string_buffer(max(8, key_codec.size))
    first = True
    while True:
        keys = key_codec.new_array(chunk)
        values = value_codec.new_array(chunk)
        attr = a.MapBatchAttr(
            in_batch=0 if first else ctypes.addressof(token),
            out_batch=ctypes.addressof(token),
            keys=ctypes.addressof(keys),
            values=ctypes.addressof(values),
            count=chunk,
            map_fd=m.fd,
        )
        done = False
        try:
            cmd.map_batch(command, attr)
        except OSError as exc:
            code = exc.errno or 0
            if code == errno.ENOENT:
                done = True
            elif code == errno.ENOSPC and attr.count == 0:
                chunk *= 2  # a hash bucket holds more than one batch: retry
                continue
            elif code in (ENOTSUPP, errno.EOPNOTSUPP) and first:
                raise _BatchUnsupported from None
            else:
                raise m._error("batch read", code) from None
        yield keys, values, attr.count
        if done:
            return
        first = False


def _batch_over(
    m: BatchableMap, command: Cmd, keys: Any, values: Any, count: int, flags: int = 0
) -> int:
    """Run an update or delete batch over ``count`` packed entries; keys the kernel
    reports missing (ENOENT) are skipped.  Returns how many were done."""
    key_codec, value_codec = m._codecs()
    done = start = 0
    while start < count:
        attr = a.MapBatchAttr(
            keys=ctypes.addressof(keys) + start * key_codec.size,
            values=ctypes.addressof(values) + start * value_codec.size if values else 0,
            count=count - start,
            map_fd=m.fd,
            elem_flags=flags,
        )
        try:
            cmd.map_batch(command, attr)
            return done + int(attr.count)
        except OSError as exc:
            code = exc.errno or 0
            if code in (ENOTSUPP, errno.EOPNOTSUPP) and start == 0:
                m._batch_unsupported.add(command)
                raise _BatchUnsupported from None
            if code != errno.ENOENT:
                raise m._error(command.name.lower(), code) from None
            done += attr.count
            start += attr.count + 1  # skip the missing key
    return done


def _read_one_by_one(m: BatchableMap, delete: bool) -> tuple[list[Any], list[Any]]:
    """The fallback: ``GET_NEXT_KEY`` then one lookup (and delete) per key."""
    key_codec = m._codecs()[0]
    keys: list[Any] = []
    values: list[Any] = []
    for raw in _raw_keys(m):
        key = key_codec.from_bytes(raw)
        value: Any
        try:
            value = m.lookup_and_delete(key) if delete else m[key]
        except KeyError:
            continue  # deleted meanwhile
        except MapError as exc:
            if not delete or exc.errno not in (errno.EINVAL, ENOTSUPP):
                raise
            value = m.get(key)  # no lookup-and-delete for this kind
            if value is None or not m.delete(key):
                continue
        keys.append(key)
        values.append(value)
    return keys, values


def _raw_keys(m: BatchableMap) -> Iterator[bytes]:
    """Keys by ``GET_NEXT_KEY``, each once.  When the key we stand on is deleted the
    kernel starts over from the first key; we then resume from the latest key seen
    that still exists (keys never move in a hash map)."""
    key_codec, value_codec = m._codecs()
    cursor = key_codec.new_buffer()
    following = key_codec.new_buffer()
    scratch = value_codec.new_buffer()
    seen: set[bytes] = set()
    order: list[bytes] = []  # seen keys, in walk order, not known to be gone
    started = False
    # Bounded, whatever the kernel does meanwhile.
    for _ in range(8 * m.spec.max_entries + 64):
        try:
            cmd.map_get_next_key(
                m.fd,
                ctypes.addressof(cursor) if started else 0,
                ctypes.addressof(following),
            )
        except OSError as exc:
            if exc.errno == errno.ENOENT:
                return
            raise m._error("iterate", exc.errno or 0) from None
        raw = bytes(following)
        if raw in seen:  # the walk started over: find where we were
            while order and not _exists(m.fd, order[-1], cursor, scratch):
                order.pop()
            raw = order[-1] if order else raw
        else:
            seen.add(raw)
            order.append(raw)
            yield raw
        ctypes.memmove(ctypes.addressof(cursor), raw, key_codec.size)
        started = True


def _exists(fd: int, raw: bytes, key: Any, scratch: Any) -> bool:
    ctypes.memmove(ctypes.addressof(key), raw, len(raw))
    try:
        cmd.map_lookup(fd, ctypes.addressof(key), ctypes.addressof(scratch))
    except OSError:
        return False
    return True
