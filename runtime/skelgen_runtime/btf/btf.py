"""A parsed BTF blob and the queries every consumer needs (resolve, sizeof, find)."""

from __future__ import annotations

import abc

from ..errors import ObjectError
from . import codec, types as t
from .validate import MAX_NESTING, validate

_MODIFIERS = (t.Volatile, t.Const, t.Restrict, t.TypeTag)
# The kernel's MAX_RESOLVE_DEPTH: it refuses longer chains of modifiers and typedefs.
MAX_CHAIN = 32
MAX_SIZE = 0xFFFFFFFF  # BTF sizes are u32


def _next_in_chain(item: t.BtfType) -> int:
    """The type a modifier, typedef, array or variable stands on (0: none)."""
    if isinstance(item, t.Array):
        return item.elem_type
    if isinstance(item, (*_MODIFIERS, t.Typedef, t.Var)):
        return item.type_id
    return 0


class AbstractBtf(abc.ABC):
    """Types by id, and the queries built on that alone.

    :class:`Btf` holds every type of a blob in a list (objects: a few hundred types);
    :class:`~.lazy.LazyBtf` decodes a type when it is first asked for (the kernel's
    BTF: ~130k types, of which a load touches a few hundred).
    """

    @abc.abstractmethod
    def __getitem__(self, type_id: int) -> t.BtfType: ...

    @abc.abstractmethod
    def __len__(self) -> int: ...

    @abc.abstractmethod
    def find(self, name: str, kind: type | tuple[type, ...] | None = None) -> list[int]:
        """Ids of the types called ``name`` (optionally of one model class)."""

    def skip_modifiers(self, type_id: int) -> int:
        """Follow const/volatile/restrict/type_tag to the qualified type."""
        return self._follow(type_id, _MODIFIERS)

    def resolve(self, type_id: int) -> int:
        """Follow modifiers and typedefs to the underlying type."""
        return self._follow(type_id, (*_MODIFIERS, t.Typedef))

    def _follow(self, type_id: int, kinds: tuple[type, ...]) -> int:
        start = type_id
        for _ in range(MAX_CHAIN + 1):
            item = self[type_id]
            if not isinstance(item, kinds):
                return type_id
            type_id = item.type_id  # type: ignore[union-attr]
        raise self._chain_error(start)

    def _chain_error(self, start: int) -> ObjectError:
        """A chain of references from ``start`` that never ends, or is too long."""
        seen = set()
        type_id = start
        for _ in range(MAX_CHAIN + 1):
            if type_id in seen:
                return ObjectError(
                    f"BTF type {start} refers to itself (through {type_id})"
                )
            seen.add(type_id)
            type_id = _next_in_chain(self[type_id])
        return ObjectError(
            f"BTF type {start}: more than {MAX_CHAIN} typedefs, modifiers or arrays in a row"
        )

    def size_of(self, type_id: int) -> int:
        """Bytes of a value of the type; a BTF type is at most 4 GiB - 1 (u32)."""
        count = 1
        current = type_id
        for _ in range(MAX_CHAIN + 1):
            item = self[self.resolve(current)]
            if isinstance(item, (t.Int, t.Struct, t.Union, t.Enum, t.Float, t.Datasec)):
                size = item.size
                break
            if isinstance(item, t.Ptr):
                size = 8
                break
            if isinstance(item, t.Array):
                count *= item.nelems
                current = item.elem_type
            elif isinstance(item, t.Var):
                current = item.type_id
            else:
                raise ObjectError(f"BTF type {type_id} ({item.kind.name}) has no size")
        else:
            raise self._chain_error(type_id)
        if count * size > MAX_SIZE:
            raise ObjectError(
                f"BTF type {type_id} is {count * size} bytes, more than BTF can describe"
            )
        return count * size

    def align_of(self, type_id: int) -> int:
        """Natural alignment as the compiler sees it, inferred the way libbpf does:
        a composite whose members sit off their alignment is packed (alignment 1)."""
        known: dict[int, int] = {}

        def align(type_id: int, depth: int) -> int:
            if depth > MAX_NESTING:
                raise ObjectError(
                    f"BTF type {type_id} is nested more than {MAX_NESTING} deep "
                    "(does it contain itself?)"
                )
            type_id = self.resolve(type_id)
            if type_id not in known:
                known[type_id] = natural(self[type_id], depth)
            return known[type_id]

        def natural(item: t.BtfType, depth: int) -> int:
            if isinstance(item, (t.Int, t.Enum, t.Float)):
                return min(item.size, 8) or 1
            if isinstance(item, t.Ptr):
                return 8
            if isinstance(item, t.Array):
                return align(item.elem_type, depth + 1)
            if isinstance(item, (t.Struct, t.Union)):
                result = 1
                for member in item.members:
                    if member.bitfield_size:
                        continue
                    m_align = align(member.type_id, depth + 1)
                    if member.bit_offset % (8 * m_align):
                        return 1
                    result = max(result, m_align)
                return 1 if item.size % result else result
            return 1

        return align(type_id, 0)

    def name_of(self, type_id: int) -> str:
        return self[type_id].name


class Btf(AbstractBtf):
    """The types of one BTF blob, indexed by id (``types[0]`` is void)."""

    def __init__(self, types: list[t.BtfType], strings: bytes) -> None:
        self.types = types
        self.strings = strings
        self._by_name: dict[str, list[int]] | None = None

    @classmethod
    def from_bytes(cls, data: bytes) -> Btf:
        """Decode and :func:`~.validate.validate` raw BTF."""
        types, strings = codec.decode(data)
        validate(types)
        return cls(types, strings)

    def __getitem__(self, type_id: int) -> t.BtfType:
        try:
            return self.types[type_id]
        except IndexError:
            raise ObjectError(f"BTF type id {type_id} does not exist") from None

    def __len__(self) -> int:
        return len(self.types)

    def add(self, item: t.BtfType) -> int:
        """Append a type; returns its id."""
        self.types.append(item)
        if self._by_name is not None and item.name:
            self._by_name.setdefault(item.name, []).append(len(self.types) - 1)
        return len(self.types) - 1

    def find(self, name: str, kind: type | tuple[type, ...] | None = None) -> list[int]:
        """Ids of the types called ``name`` (optionally of one model class)."""
        if self._by_name is None:
            index: dict[str, list[int]] = {}
            for type_id, item in enumerate(self.types):
                if item.name:
                    index.setdefault(item.name, []).append(type_id)
            self._by_name = index
        ids = self._by_name.get(name, [])
        if kind is None:
            return list(ids)
        return [i for i in ids if isinstance(self.types[i], kind)]

    def encode(self) -> bytes:
        """Encode back to raw BTF, keeping every original string offset valid."""
        return codec.encode(self.types[1:], codec.StringTable(self.strings))
