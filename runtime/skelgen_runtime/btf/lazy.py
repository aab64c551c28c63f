"""BTF decoded one type at a time: the kernel's ~130k types cost only what is used.

Decoding the whole vmlinux BTF takes most of a second in Python, while a load
touches a few hundred of its types.  :class:`LazyBtf` keeps the raw bytes and a
:class:`BtfIndex` (where each record starts, and the types sorted by name); a type
is decoded the first time it is asked for.  The index is the only part that needs
a pass over every record, and it depends on the bytes alone, so the caller can
keep it on disk keyed by their hash (see :mod:`..kernel_btf`).

Split BTF (kernel modules) continues the ids and string offsets of a base BTF:
pass the base as ``base``.
"""

from __future__ import annotations

import bisect
import struct
from array import array

from ..errors import ObjectError
from ..lean.records import dataclass
from . import codec, types as t
from .btf import AbstractBtf

# Size of each record kind in 4-byte words past the 12-byte header: a fixed part
# plus a part per ``vlen`` item (the layouts that codec._decode_one reads).
_FIXED_WORDS = {t.Kind.INT: 1, t.Kind.ARRAY: 3, t.Kind.VAR: 1, t.Kind.DECL_TAG: 1}
_WORDS_PER_ITEM = {
    t.Kind.STRUCT: 3,
    t.Kind.UNION: 3,
    t.Kind.ENUM: 2,
    t.Kind.ENUM64: 3,
    t.Kind.FUNC_PROTO: 2,
    t.Kind.DATASEC: 3,
}
_INDEX_MAGIC = b"SKBTFIX1"
_INDEX_HEADER = struct.Struct("<8sI")
_FLAVOR_SEP = b"___"


def essential_name(name: str) -> str:
    """``task_struct___v2`` → ``task_struct``: CO-RE ignores what follows the last
    ``X___Y`` separator (X and Y not underscores), as libbpf does."""
    if "___" not in name:
        return name
    for i in range(len(name) - 5, -1, -1):
        if name[i] != "_" and name[i + 1 : i + 4] == "___" and name[i + 4] != "_":
            return name[: i + 1]
    return name


@dataclass(frozen=True)
class BtfIndex:
    """``offsets[i]``: word offset of the i-th record of the type section;
    ``by_name``: record numbers sorted by type name (bytes order)."""

    offsets: array[int]
    by_name: array[int]

    def to_bytes(self) -> bytes:
        header = _INDEX_HEADER.pack(_INDEX_MAGIC, len(self.offsets))
        return header + self.offsets.tobytes() + self.by_name.tobytes()

    @classmethod
    def from_bytes(cls, raw: bytes) -> BtfIndex | None:
        """The index stored by :meth:`to_bytes`, or None if ``raw`` is not one."""
        if len(raw) < _INDEX_HEADER.size:
            return None
        magic, count = _INDEX_HEADER.unpack_from(raw)
        if magic != _INDEX_MAGIC or len(raw) != _INDEX_HEADER.size + 8 * count:
            return None
        offsets, by_name = array("I"), array("I")
        middle = _INDEX_HEADER.size + 4 * count
        offsets.frombytes(raw[_INDEX_HEADER.size : middle])
        by_name.frombytes(raw[middle:])
        return cls(offsets, by_name)


# Record size in words by kind: header + fixed part (-1: no such kind) ...
_RECORD_WORDS = [
    3 + _FIXED_WORDS.get(t.Kind(k), 0) if k < 20 else -1 for k in range(32)
]
# ... plus this many words per vlen item.
_ITEM_WORDS = [_WORDS_PER_ITEM.get(t.Kind(k), 0) if k < 20 else 0 for k in range(32)]


def _type_words(data: bytes, type_start: int, type_len: int) -> memoryview:
    if type_start % 4 or type_len % 4:
        raise ObjectError("BTF type section is not 4-byte aligned")
    return memoryview(data)[type_start : type_start + type_len].cast("I")


def _record_size(words: memoryview, pos: int) -> int:
    if pos + 3 > len(words):
        raise ObjectError("BTF type section is truncated")
    info = words[pos + 1]
    size = _RECORD_WORDS[(info >> 24) & 0x1F]
    if size < 0:
        raise ObjectError(f"BTF holds a type of unknown kind {(info >> 24) & 0x1F}")
    return size + _ITEM_WORDS[(info >> 24) & 0x1F] * (info & 0xFFFF)


def record_offsets(data: bytes, type_start: int, type_len: int) -> array[int]:
    """Word offset of every record of the type section, in id order."""
    words = _type_words(data, type_start, type_len)
    count = len(words)
    offsets = array("I")
    append = offsets.append
    # _record_size inlined: this loop runs ~130k times for vmlinux
    record, item = _RECORD_WORDS, _ITEM_WORDS
    pos = 0
    while pos < count:
        append(pos)
        if pos + 3 > count:
            raise ObjectError("BTF type section is truncated")
        info = words[pos + 1]
        kind = (info >> 24) & 0x1F
        if record[kind] < 0:
            raise ObjectError(f"BTF holds a type of unknown kind {kind}")
        pos += record[kind] + item[kind] * (info & 0xFFFF)
    if pos != count:
        raise ObjectError("BTF type section is truncated")
    return offsets


def check_index(data: bytes, index: BtfIndex) -> bool:
    """Whether ``index`` plausibly belongs to ``data``: its records start at 0 and
    the last one ends where the type section does (a cheap guard against a stale
    or damaged index file)."""
    type_start, type_len, _ = codec.sections(data)
    words = _type_words(data, type_start, type_len)
    offsets = index.offsets
    if not offsets:
        return type_len == 0
    try:
        end = offsets[-1] + _record_size(words, offsets[-1])
    except ObjectError:
        return False
    return offsets[0] == 0 and end == len(words)


class LazyBtf(AbstractBtf):
    """Raw BTF whose types are decoded on first access (ids as in :class:`Btf`)."""

    first_id: int  # id of the first own type (after the base's)
    first_string: int  # offset of the first own string (after the base's)
    string_end: int

    def __init__(
        self, data: bytes, base: LazyBtf | None = None, index: BtfIndex | None = None
    ) -> None:
        self.data = data
        self.base = base
        self._type_start, type_len, self.strings = codec.sections(data)
        self.first_id = len(base) if base is not None else 1
        self.first_string = base.string_end if base is not None else 0
        self.string_end = self.first_string + len(self.strings)
        self._decoded: dict[int, t.BtfType] = {}
        self.index = index or self._build_index(type_len)

    def _build_index(self, type_len: int) -> BtfIndex:
        offsets = record_offsets(self.data, self._type_start, type_len)
        names = [self._record_name(off) for off in offsets]
        by_name = array("I", sorted(range(len(offsets)), key=names.__getitem__))
        return BtfIndex(offsets, by_name)

    # -- strings ----------------------------------------------------------------------

    def string_bytes(self, offset: int) -> bytes:
        if offset < self.first_string:
            assert self.base is not None
            return self.base.string_bytes(offset)
        local = offset - self.first_string
        end = self.strings.find(b"\0", local)
        if local >= len(self.strings) or end < 0:
            raise ObjectError(f"BTF string offset {offset} is outside the strings")
        return self.strings[local:end]

    def _string(self, offset: int) -> str:
        return self.string_bytes(offset).decode("utf-8", "replace")

    def _record_name(self, word_offset: int) -> bytes:
        (name_off,) = struct.unpack_from("<I", self.data, self._at(word_offset))
        return self.string_bytes(name_off) if name_off else b""

    def _at(self, word_offset: int) -> int:
        return self._type_start + 4 * word_offset

    # -- AbstractBtf ------------------------------------------------------------------

    def __len__(self) -> int:
        return self.first_id + len(self.index.offsets)

    def __getitem__(self, type_id: int) -> t.BtfType:
        if type_id < self.first_id:
            if self.base is not None:
                return self.base[type_id]
            if type_id == 0:
                return t.Void()
        item = self._decoded.get(type_id)
        if item is None:
            if not 0 <= type_id - self.first_id < len(self.index.offsets):
                raise ObjectError(f"BTF type id {type_id} does not exist")
            pos = self._at(self.index.offsets[type_id - self.first_id])
            try:
                item, _ = codec.decode_type(self.data, pos, self._string)
            except struct.error:
                raise ObjectError("BTF type section is truncated") from None
            self._decoded[type_id] = item
        return item

    def find(self, name: str, kind: type | tuple[type, ...] | None = None) -> list[int]:
        """Ids of this BTF's own types called ``name`` (never its base's: libbpf
        looks a module's types up apart from vmlinux's)."""
        ids = self._ids_named(name.encode(), exact=True)
        return ids if kind is None else [i for i in ids if isinstance(self[i], kind)]

    def find_flavors(self, essential: str) -> list[int]:
        """Ids of this BTF's own types whose essential name is ``essential``."""
        raw = essential.encode()
        ids = self._ids_named(raw, exact=True) + self._ids_named(raw + _FLAVOR_SEP)
        return sorted(i for i in ids if essential_name(self[i].name) == essential)

    def _ids_named(self, prefix: bytes, exact: bool = False) -> list[int]:
        """Own ids whose name is ``prefix`` (``exact``) or starts with it."""

        def key(record: int) -> bytes:
            return self._record_name(self.index.offsets[record])

        order = self.index.by_name
        out = []
        for pos in range(bisect.bisect_left(order, prefix, key=key), len(order)):
            name = key(order[pos])
            if name != prefix and (exact or not name.startswith(prefix)):
                break
            out.append(self.first_id + order[pos])
        return out
