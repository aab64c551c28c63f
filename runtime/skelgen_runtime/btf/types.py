"""The BTF type model: one dataclass per kind, type references as integer ids.

Ids index :attr:`Btf.types`; id 0 is ``void``.  The model is mutable so that the
loader can fix up DATASECs and sanitise kinds before it encodes the BTF again.
"""

from __future__ import annotations

from ..lean.enums import IntEnum, IntFlag
from ..lean.records import dataclass


class Kind(IntEnum):
    VOID = 0
    INT = 1
    PTR = 2
    ARRAY = 3
    STRUCT = 4
    UNION = 5
    ENUM = 6
    FWD = 7
    TYPEDEF = 8
    VOLATILE = 9
    CONST = 10
    RESTRICT = 11
    FUNC = 12
    FUNC_PROTO = 13
    VAR = 14
    DATASEC = 15
    FLOAT = 16
    DECL_TAG = 17
    TYPE_TAG = 18
    ENUM64 = 19


class IntEncoding(IntFlag):
    SIGNED = 1
    CHAR = 2
    BOOL = 4


class VarLinkage(IntEnum):
    STATIC = 0
    GLOBAL_ALLOCATED = 1
    GLOBAL_EXTERN = 2


class FuncLinkage(IntEnum):
    STATIC = 0
    GLOBAL = 1
    EXTERN = 2


@dataclass
class Void:
    name: str = ""
    kind = Kind.VOID


@dataclass
class Int:
    name: str
    size: int
    encoding: IntEncoding
    bit_offset: int
    bits: int
    kind = Kind.INT

    @property
    def signed(self) -> bool:
        return bool(self.encoding & IntEncoding.SIGNED)


@dataclass
class Ptr:
    name: str
    type_id: int
    kind = Kind.PTR


@dataclass
class Array:
    name: str
    elem_type: int
    index_type: int
    nelems: int
    kind = Kind.ARRAY


@dataclass
class Member:
    name: str
    type_id: int
    bit_offset: int
    bitfield_size: int = 0  # 0: not a bitfield


@dataclass
class Struct:
    name: str
    size: int
    members: list[Member]
    kind_flag: bool = False  # member offsets carry bitfield sizes
    kind = Kind.STRUCT


@dataclass
class Union:
    name: str
    size: int
    members: list[Member]
    kind_flag: bool = False
    kind = Kind.UNION


@dataclass
class EnumValue:
    name: str
    value: int


@dataclass
class Enum:
    name: str
    size: int
    values: list[EnumValue]
    signed: bool = False
    is64: bool = False  # encoded as ENUM64 rather than ENUM

    @property
    def kind(self) -> Kind:
        return Kind.ENUM64 if self.is64 else Kind.ENUM


@dataclass
class Fwd:
    name: str
    is_union: bool = False
    kind = Kind.FWD


@dataclass
class Typedef:
    name: str
    type_id: int
    kind = Kind.TYPEDEF


@dataclass
class Volatile:
    name: str
    type_id: int
    kind = Kind.VOLATILE


@dataclass
class Const:
    name: str
    type_id: int
    kind = Kind.CONST


@dataclass
class Restrict:
    name: str
    type_id: int
    kind = Kind.RESTRICT


@dataclass
class TypeTag:
    name: str
    type_id: int
    kind_flag: bool = False
    kind = Kind.TYPE_TAG


@dataclass
class Func:
    name: str
    type_id: int
    linkage: FuncLinkage
    kind = Kind.FUNC


@dataclass
class Param:
    name: str
    type_id: int


@dataclass
class FuncProto:
    name: str
    return_type: int
    params: list[Param]
    kind = Kind.FUNC_PROTO


@dataclass
class Var:
    name: str
    type_id: int
    linkage: VarLinkage
    kind = Kind.VAR


@dataclass
class VarSecinfo:
    type_id: int
    offset: int
    size: int


@dataclass
class Datasec:
    name: str
    size: int
    vars: list[VarSecinfo]
    kind = Kind.DATASEC


@dataclass
class Float:
    name: str
    size: int
    kind = Kind.FLOAT


@dataclass
class DeclTag:
    name: str
    type_id: int
    component_idx: int
    kind_flag: bool = False
    kind = Kind.DECL_TAG


BtfType = (
    Void
    | Int
    | Ptr
    | Array
    | Struct
    | Union
    | Enum
    | Fwd
    | Typedef
    | Volatile
    | Const
    | Restrict
    | TypeTag
    | Func
    | FuncProto
    | Var
    | Datasec
    | Float
    | DeclTag
)

# Kinds that only qualify another type and are skipped to reach the type itself.
Modifier = Volatile | Const | Restrict | TypeTag
Composite = Struct | Union
