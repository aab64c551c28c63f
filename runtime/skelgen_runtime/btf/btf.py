"""A parsed BTF blob and the queries every consumer needs (resolve, sizeof, find)."""

from __future__ import annotations

import abc

from ..errors import ObjectError
from . import codec, types as t

_MODIFIERS = (t.Volatile, t.Const, t.Restrict, t.TypeTag)


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
        while isinstance(self[type_id], _MODIFIERS):
            type_id = self[type_id].type_id  # type: ignore[union-attr]
        return type_id

    def resolve(self, type_id: int) -> int:
        """Follow modifiers and typedefs to the underlying type."""
        while True:
            item = self[type_id]
            if isinstance(item, (*_MODIFIERS, t.Typedef)):
                type_id = item.type_id
            else:
                return type_id

    def size_of(self, type_id: int) -> int:
        item = self[self.resolve(type_id)]
        if isinstance(item, (t.Int, t.Struct, t.Union, t.Enum, t.Float, t.Datasec)):
            return item.size
        if isinstance(item, t.Ptr):
            return 8
        if isinstance(item, t.Array):
            return item.nelems * self.size_of(item.elem_type)
        if isinstance(item, t.Var):
            return self.size_of(item.type_id)
        raise ObjectError(f"BTF type {type_id} ({item.kind.name}) has no size")

    def align_of(self, type_id: int) -> int:
        """Natural alignment as the compiler sees it, inferred the way libbpf does:
        a composite whose members sit off their alignment is packed (alignment 1)."""
        item = self[self.resolve(type_id)]
        if isinstance(item, (t.Int, t.Enum, t.Float)):
            return min(item.size, 8) or 1
        if isinstance(item, t.Ptr):
            return 8
        if isinstance(item, t.Array):
            return self.align_of(item.elem_type)
        if isinstance(item, (t.Struct, t.Union)):
            align = 1
            for member in item.members:
                if member.bitfield_size:
                    continue
                m_align = self.align_of(member.type_id)
                if member.bit_offset % (8 * m_align):
                    return 1
                align = max(align, m_align)
            return 1 if item.size % align else align
        return 1

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
        types, strings = codec.decode(data)
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
