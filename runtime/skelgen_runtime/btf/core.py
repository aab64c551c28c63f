"""CO-RE relocations: what each ``.BTF.ext`` record resolves to, and the patch.

The arithmetic of libbpf's ``relo_core.c``, in Python and without syscalls:

1. :func:`parse_spec` turns a record (root type + access string ``0:1:2``) into a
   *spec*: the named fields and array indexes it goes through, and a bit offset.
2. Candidates are the kernel types with the same essential name
   (``task_struct___v1`` → ``task_struct``) and a compatible kind (vmlinux first,
   then modules if vmlinux has none); :func:`match_spec` finds the same fields in
   each by name.
3. Every matching candidate must give the same answer; with none, field offsets
   and enum values *poison* the instruction (a call to helper ``0xbad2310``, which
   the verifier only rejects if the instruction is reachable) and existence checks
   give 0.
4. :func:`patch_insn` checks that the instruction holds the value the compiler
   computed on the local types, then writes the kernel's value (and narrows a
   load when the kernel's field is smaller).
"""

from __future__ import annotations

import struct
from collections.abc import Callable

from ..errors import LoadError, ObjectError
from ..lean.enums import IntEnum
from ..lean.records import dataclass, field
from . import types as t
from .btf import AbstractBtf
from .ext import CoreRelo
from .lazy import LazyBtf, essential_name

MAX_SPEC_LEN = 64  # libbpf's BPF_CORE_SPEC_MAX_LEN
MAX_DEPTH = 32  # type-chain and recursion limit of libbpf's comparisons
POISON_IMM = 0xBAD2310  # "bad relo": the verifier says "invalid func unknown#195896080"
INSN_SIZE = 8
_U64 = (1 << 64) - 1
_INSN = struct.Struct("<BBhi")


class CoreKind(IntEnum):
    """``enum bpf_core_relo_kind``."""

    FIELD_BYTE_OFFSET = 0
    FIELD_BYTE_SIZE = 1
    FIELD_EXISTS = 2
    FIELD_SIGNED = 3
    FIELD_LSHIFT_U64 = 4
    FIELD_RSHIFT_U64 = 5
    TYPE_ID_LOCAL = 6
    TYPE_ID_TARGET = 7
    TYPE_EXISTS = 8
    TYPE_SIZE = 9
    ENUMVAL_EXISTS = 10
    ENUMVAL_VALUE = 11
    TYPE_MATCHES = 12

    @property
    def is_field(self) -> bool:
        return self <= CoreKind.FIELD_RSHIFT_U64

    @property
    def is_type(self) -> bool:
        return self in _TYPE_KINDS

    @property
    def is_enumval(self) -> bool:
        return self in (CoreKind.ENUMVAL_EXISTS, CoreKind.ENUMVAL_VALUE)


_TYPE_KINDS = frozenset(
    {
        CoreKind.TYPE_ID_LOCAL,
        CoreKind.TYPE_ID_TARGET,
        CoreKind.TYPE_EXISTS,
        CoreKind.TYPE_SIZE,
        CoreKind.TYPE_MATCHES,
    }
)


class _Poison(Exception):
    """The relocation cannot be resolved: poison the instruction (libbpf's EUCLEAN)."""


@dataclass
class Accessor:
    """One semantic step of a spec: a named member (``name``) or an array index."""

    type_id: int  # the struct/union holding the member, or the array's element type
    idx: int  # member index, array index, or enumerator index
    name: str | None


@dataclass
class Spec:
    """A parsed access: ``accessors`` are the named members and array indexes,
    ``raw`` every step (anonymous members included), ``bit_offset`` where it ends."""

    btf: AbstractBtf
    root_type_id: int
    kind: CoreKind
    accessors: list[Accessor] = field(default_factory=list)
    raw: list[int] = field(default_factory=list)
    bit_offset: int = 0


@dataclass(frozen=True)
class Candidate:
    btf: AbstractBtf
    type_id: int


@dataclass(frozen=True)
class Result:
    """What to check in the instruction (``orig_val``) and what to put there."""

    orig_val: int
    new_val: int
    poison: bool = False
    validate: bool = True
    orig_size: int = 0  # memory access sizes, for narrowing loads and stores
    new_size: int = 0
    fail_memsz_adjust: bool = False


def _size(btf: AbstractBtf, type_id: int) -> int:
    try:
        return btf.size_of(type_id)
    except ObjectError as exc:
        raise LoadError(str(exc)) from None


def _resolved(btf: AbstractBtf, type_id: int) -> tuple[int, t.BtfType]:
    """Skip modifiers and typedefs (libbpf's ``skip_mods_and_typedefs``)."""
    try:
        type_id = btf.resolve(type_id)
        return type_id, btf[type_id]
    except ObjectError as exc:
        raise LoadError(str(exc)) from None


def _elem_size(btf: AbstractBtf, type_id: int) -> int:
    """Size of the innermost element of an array type (of the type itself if not an
    array): what a load of the field actually reads."""
    type_id, item = _resolved(btf, type_id)
    while isinstance(item, t.Array):
        type_id, item = _resolved(btf, item.elem_type)
    return _size(btf, type_id)


def _kinds_compatible(a: t.BtfType, b: t.BtfType) -> bool:
    """Same kind, ENUM and ENUM64 counting as one (libbpf's btf_kind_core_compat)."""
    return type(a) is type(b)


def _is_flex_array(btf: AbstractBtf, previous: Accessor, array: t.Array) -> bool:
    """A zero-length array that is the last member of the struct ``previous`` names."""
    if previous.name is None or array.nelems > 0:
        return False
    holder = btf[previous.type_id]
    return (
        isinstance(holder, t.Struct | t.Union)
        and previous.idx == len(holder.members) - 1
    )


# -- specs --------------------------------------------------------------------------


def parse_spec(btf: AbstractBtf, relo: CoreRelo) -> Spec:
    """The local spec of a relocation record (libbpf's ``bpf_core_parse_spec``)."""
    kind = CoreKind(relo.kind)
    access = relo.access_str
    invalid = LoadError(f"invalid CO-RE access string {access!r} for [{relo.type_id}]")
    if not access or access.startswith(":"):
        raise invalid
    spec = Spec(btf, relo.type_id, kind)
    if kind.is_type:
        if access != "0":
            raise invalid
        return spec
    try:
        raw = [int(part) for part in access.split(":")]
    except ValueError:
        raise invalid from None
    if len(raw) > MAX_SPEC_LEN:
        raise LoadError(f"CO-RE access string {access!r} is too long")
    if any(i < 0 for i in raw):
        raise invalid
    spec.raw = raw
    type_id, item = _resolved(btf, relo.type_id)
    root = Accessor(type_id, raw[0], None)
    spec.accessors.append(root)
    if kind.is_enumval:
        if not isinstance(item, t.Enum) or len(raw) > 1 or raw[0] >= len(item.values):
            raise invalid
        root.name = item.values[raw[0]].name
        return spec
    spec.bit_offset = raw[0] * _size(btf, type_id) * 8
    for idx in raw[1:]:
        type_id, item = _resolved(btf, type_id)
        if isinstance(item, t.Struct | t.Union):
            if idx >= len(item.members):
                raise invalid
            member = item.members[idx]
            spec.bit_offset += member.bit_offset
            if member.name:
                spec.accessors.append(Accessor(type_id, idx, member.name))
            type_id = member.type_id
        elif isinstance(item, t.Array):
            flex = _is_flex_array(btf, spec.accessors[-1], item)
            type_id, _ = _resolved(btf, item.elem_type)
            if not flex and idx >= item.nelems:
                raise invalid
            spec.accessors.append(Accessor(type_id, idx, None))
            spec.bit_offset += idx * _size(btf, type_id) * 8
        else:
            raise LoadError(
                f"CO-RE access {access!r} of [{relo.type_id}] goes through "
                f"[{type_id}] of kind {item.kind.name}"
            )
    return spec


def match_spec(local: Spec, btf: AbstractBtf, type_id: int) -> Spec | None:
    """The target spec of candidate ``type_id``, or None if it does not match."""
    target = Spec(btf, type_id, local.kind)
    if local.kind.is_type:
        if local.kind == CoreKind.TYPE_MATCHES:
            ok = types_match(local.btf, local.root_type_id, btf, type_id)
        else:
            ok = types_are_compatible(local.btf, local.root_type_id, btf, type_id)
        return target if ok else None
    if local.kind.is_enumval:
        type_id, item = _resolved(btf, type_id)
        if not isinstance(item, t.Enum):
            return None
        wanted = essential_name(local.accessors[0].name or "")
        for i, value in enumerate(item.values):
            if essential_name(value.name) == wanted:
                target.accessors.append(Accessor(type_id, i, value.name))
                target.raw.append(i)
                return target
        return None
    for i, local_acc in enumerate(local.accessors):
        type_id, item = _resolved(btf, type_id)
        if local_acc.name is not None:
            found, type_id = _match_member(local.btf, local_acc, btf, type_id, target)
            if not found:
                return None
            continue
        if i > 0:
            if not isinstance(item, t.Array):
                return None
            flex = _is_flex_array(btf, target.accessors[-1], item)
            if not flex and local_acc.idx >= item.nelems:
                return None
            type_id, _ = _resolved(btf, item.elem_type)
        if len(target.raw) == MAX_SPEC_LEN:
            raise LoadError("CO-RE target type nests too deeply")
        target.accessors.append(Accessor(type_id, local_acc.idx, None))
        target.raw.append(local_acc.idx)
        target.bit_offset += local_acc.idx * _size(btf, type_id) * 8
    return target


def _match_member(
    local_btf: AbstractBtf,
    local_acc: Accessor,
    btf: AbstractBtf,
    type_id: int,
    spec: Spec,
) -> tuple[bool, int]:
    """Find the member ``local_acc`` names in ``type_id``, searching anonymous
    members too; extends ``spec`` and returns (found, the member's type id)."""
    type_id, item = _resolved(btf, type_id)
    if not isinstance(item, t.Struct | t.Union):
        return False, type_id
    holder = local_btf[local_acc.type_id]
    assert isinstance(holder, t.Struct | t.Union)
    local_member = holder.members[local_acc.idx]
    if item.members and len(spec.raw) == MAX_SPEC_LEN:
        raise LoadError("CO-RE target type nests too deeply")
    for i, member in enumerate(item.members):
        if member.name and member.name != local_member.name:
            continue  # (libbpf pushes and pops it: the spec is unchanged)
        spec.bit_offset += member.bit_offset
        spec.raw.append(i)
        if not member.name:
            found, next_id = _match_member(
                local_btf, local_acc, btf, member.type_id, spec
            )
            if found:
                return True, next_id
        else:
            spec.accessors.append(Accessor(type_id, i, member.name))
            if fields_are_compatible(
                local_btf, local_member.type_id, btf, member.type_id
            ):
                return True, member.type_id
            spec.accessors.pop()
            return False, member.type_id
        spec.bit_offset -= member.bit_offset
        spec.raw.pop()
    return False, type_id


# -- type comparisons -----------------------------------------------------------------


def fields_are_compatible(
    local_btf: AbstractBtf, local_id: int, btf: AbstractBtf, type_id: int
) -> bool:
    """Can a field of the local type be relocated to a field of the target type?
    Composites always, pointers and floats always, ints unless bitfield-like, enums
    and forward declarations by essential name, arrays by element type."""
    while True:
        local_id, local_t = _resolved(local_btf, local_id)
        type_id, target_t = _resolved(btf, type_id)
        composites = (t.Struct, t.Union)
        if isinstance(local_t, composites) and isinstance(target_t, composites):
            return True
        if not _kinds_compatible(local_t, target_t):
            return False
        if isinstance(local_t, t.Ptr | t.Float):
            return True
        if isinstance(local_t, t.Fwd | t.Enum):
            local_name = essential_name(local_t.name)
            target_name = essential_name(target_t.name)
            return not local_name or not target_name or local_name == target_name
        if isinstance(local_t, t.Int):
            assert isinstance(target_t, t.Int)
            return local_t.bit_offset == 0 and target_t.bit_offset == 0
        if isinstance(local_t, t.Array):
            assert isinstance(target_t, t.Array)
            local_id, type_id = local_t.elem_type, target_t.elem_type
            continue
        return False


def types_are_compatible(
    local_btf: AbstractBtf,
    local_id: int,
    btf: AbstractBtf,
    type_id: int,
    level: int = MAX_DEPTH,
) -> bool:
    """libbpf's ``bpf_core_types_are_compat`` (type relocations, typed ksyms, kfunc
    prototypes): names are ignored past the root, kinds must agree, pointers,
    arrays and function prototypes are compared through."""
    if not _kinds_compatible(local_btf[local_id], btf[type_id]):
        return False
    for _ in range(MAX_DEPTH):
        local_id, local_t = _resolved(local_btf, local_id)
        type_id, target_t = _resolved(btf, type_id)
        if not _kinds_compatible(local_t, target_t):
            return False
        if isinstance(local_t, t.Void | t.Struct | t.Union | t.Enum | t.Fwd):
            return True
        if isinstance(local_t, t.Int):
            assert isinstance(target_t, t.Int)
            return local_t.bit_offset == 0 and target_t.bit_offset == 0
        if isinstance(local_t, t.Ptr):
            assert isinstance(target_t, t.Ptr)
            local_id, type_id = local_t.type_id, target_t.type_id
        elif isinstance(local_t, t.Array):
            assert isinstance(target_t, t.Array)
            local_id, type_id = local_t.elem_type, target_t.elem_type
        elif isinstance(local_t, t.FuncProto):
            assert isinstance(target_t, t.FuncProto)
            if len(local_t.params) != len(target_t.params):
                return False
            for local_p, target_p in zip(local_t.params, target_t.params, strict=True):
                if level <= 0:
                    raise LoadError("CO-RE type comparison nests too deeply")
                if not types_are_compatible(
                    local_btf,
                    local_btf.resolve(local_p.type_id),
                    btf,
                    btf.resolve(target_p.type_id),
                    level - 1,
                ):
                    return False
            local_id = local_btf.resolve(local_t.return_type)
            type_id = btf.resolve(target_t.return_type)
        else:
            return False
    raise LoadError("CO-RE type comparison nests too deeply")


def _names_match(local: str, target: str) -> bool:
    if not target:
        return not local
    return essential_name(local) == essential_name(target)


def types_match(
    local_btf: AbstractBtf,
    local_id: int,
    btf: AbstractBtf,
    type_id: int,
    behind_ptr: bool = False,
    level: int = MAX_DEPTH,
) -> bool:
    """libbpf's ``bpf_core_types_match`` (``bpf_core_type_matches``): names match at
    every level, ints by size and signedness, enums by enumerator names, composites
    member by member (by name and kind only once behind a pointer)."""
    if level <= 0:
        raise LoadError("CO-RE type comparison nests too deeply")
    for _ in range(MAX_DEPTH):
        local_id, local_t = _resolved(local_btf, local_id)
        type_id, target_t = _resolved(btf, type_id)
        if not _names_match(local_t.name, target_t.name):
            return False
        if isinstance(local_t, t.Void):
            return isinstance(target_t, t.Void)
        if isinstance(local_t, t.Fwd):
            if isinstance(target_t, t.Fwd):
                return local_t.is_union == target_t.is_union
            if not behind_ptr:
                return False
            return isinstance(target_t, t.Union if local_t.is_union else t.Struct)
        if isinstance(local_t, t.Enum):
            return isinstance(target_t, t.Enum) and _enums_match(local_t, target_t)
        if isinstance(local_t, t.Struct | t.Union):
            if behind_ptr:
                if type(local_t) is type(target_t):
                    return True
                return isinstance(target_t, t.Fwd) and target_t.is_union == isinstance(
                    local_t, t.Union
                )
            if type(local_t) is not type(target_t):
                return False
            assert isinstance(target_t, t.Struct | t.Union)
            return _composites_match(local_btf, local_t, btf, target_t, level)
        if isinstance(local_t, t.Int):
            return (
                isinstance(target_t, t.Int)
                and local_t.size == target_t.size
                and local_t.signed == target_t.signed
            )
        if isinstance(local_t, t.Ptr):
            if not isinstance(target_t, t.Ptr):
                return False
            behind_ptr = True
            local_id, type_id = local_t.type_id, target_t.type_id
        elif isinstance(local_t, t.Array):
            if not isinstance(target_t, t.Array) or local_t.nelems != target_t.nelems:
                return False
            local_id, type_id = local_t.elem_type, target_t.elem_type
        elif isinstance(local_t, t.FuncProto):
            if not isinstance(target_t, t.FuncProto):
                return False
            if len(local_t.params) != len(target_t.params):
                return False
            for local_p, target_p in zip(local_t.params, target_t.params, strict=True):
                if not types_match(
                    local_btf,
                    local_p.type_id,
                    btf,
                    target_p.type_id,
                    behind_ptr,
                    level - 1,
                ):
                    return False
            local_id, type_id = local_t.return_type, target_t.return_type
        else:
            return False
    raise LoadError("CO-RE type comparison nests too deeply")


def _enums_match(local: t.Enum, target: t.Enum) -> bool:
    if local.size != target.size or len(local.values) > len(target.values):
        return False
    return all(
        any(_names_match(v.name, tv.name) for tv in target.values) for v in local.values
    )


def _composites_match(
    local_btf: AbstractBtf,
    local: t.Struct | t.Union,
    btf: AbstractBtf,
    target: t.Struct | t.Union,
    level: int,
) -> bool:
    if len(local.members) > len(target.members):
        return False
    for member in local.members:
        if not any(
            _names_match(member.name, tm.name)
            and types_match(
                local_btf, member.type_id, btf, tm.type_id, False, level - 1
            )
            for tm in target.members
        ):
            return False
    return True


# -- values ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _FieldValue:
    value: int
    size: int = 0  # size of the memory access the relocated instruction makes
    type_id: int = 0  # the field's type (when ``size`` is set)
    validate: bool = True


def _field_value(kind: CoreKind, spec: Spec | None) -> _FieldValue:
    if kind == CoreKind.FIELD_EXISTS:
        return _FieldValue(int(spec is not None))
    if spec is None:
        raise _Poison
    btf = spec.btf
    acc = spec.accessors[-1]
    if acc.name is None:  # the access ends on an array element
        if kind == CoreKind.FIELD_BYTE_OFFSET:
            return _FieldValue(
                spec.bit_offset // 8, _elem_size(btf, acc.type_id), acc.type_id
            )
        if kind == CoreKind.FIELD_BYTE_SIZE:
            return _FieldValue(_size(btf, acc.type_id))
        raise LoadError(
            f"CO-RE relocation {kind.name} cannot apply to an array element"
        )
    holder = btf[acc.type_id]
    assert isinstance(holder, t.Struct | t.Union)
    member = holder.members[acc.idx]
    field_id, field_t = _resolved(btf, member.type_id)
    bit_off, bit_size = spec.bit_offset, member.bitfield_size
    bitfield = bit_size > 0
    if bitfield:
        if not isinstance(field_t, t.Int | t.Enum) or not field_t.size:
            raise LoadError(f"CO-RE bitfield {member.name!r} is not an integer")
        byte_size = field_t.size
        byte_off = bit_off // 8 // byte_size * byte_size
        # the smallest naturally aligned load that holds every bit of the field
        while bit_off + bit_size - byte_off * 8 > byte_size * 8:
            if byte_size >= 8:
                raise LoadError("CO-RE bitfield cannot be read with one 64-bit load")
            byte_size *= 2
            byte_off = bit_off // 8 // byte_size * byte_size
    else:
        byte_size = _size(btf, field_id)
        byte_off = bit_off // 8
        bit_size = byte_size * 8
    # The compiler and libbpf may disagree on how to load a bitfield: only its
    # signedness and right shift are checked against the instruction.
    validate = not bitfield
    if kind == CoreKind.FIELD_BYTE_OFFSET:
        if bitfield:
            return _FieldValue(byte_off, validate=validate)
        return _FieldValue(byte_off, _elem_size(btf, field_id), field_id, validate)
    if kind == CoreKind.FIELD_BYTE_SIZE:
        return _FieldValue(byte_size, validate=validate)
    if kind == CoreKind.FIELD_SIGNED:
        signed = isinstance(field_t, t.Enum | t.Int) and field_t.signed
        return _FieldValue(int(signed))
    if kind == CoreKind.FIELD_LSHIFT_U64:  # little endian
        return _FieldValue(64 - (bit_off + bit_size - byte_off * 8), validate=validate)
    return _FieldValue(64 - bit_size)  # FIELD_RSHIFT_U64


def _type_value(kind: CoreKind, spec: Spec | None) -> int:
    if spec is None:
        return 0
    if kind == CoreKind.TYPE_ID_TARGET:
        return spec.root_type_id
    if kind == CoreKind.TYPE_SIZE:
        return _size(spec.btf, spec.root_type_id)
    return 1  # TYPE_EXISTS, TYPE_MATCHES


def _enum_value(kind: CoreKind, spec: Spec | None) -> int:
    if kind == CoreKind.ENUMVAL_EXISTS:
        return int(spec is not None)
    if spec is None:
        raise _Poison
    acc = spec.accessors[0]
    item = spec.btf[acc.type_id]
    assert isinstance(item, t.Enum)
    value = item.values[acc.idx].value
    if not item.is64:  # libbpf reads a 32-bit enumerator as __s32
        value &= 0xFFFFFFFF
        value -= (value & 0x80000000) << 1
    return value & _U64


def _memsz_adjustable(
    local: AbstractBtf, local_id: int, btf: AbstractBtf, type_id: int
) -> bool:
    """Narrowing a load is safe for pointers (the kernel's may be 32-bit) and for
    unsigned integers (zero extension keeps the value)."""
    local_t, target_t = local[local_id], btf[type_id]
    if isinstance(local_t, t.Ptr) and isinstance(target_t, t.Ptr):
        return True
    return (
        isinstance(local_t, t.Int)
        and isinstance(target_t, t.Int)
        and local_t.encoding != t.IntEncoding.SIGNED
        and target_t.encoding != t.IntEncoding.SIGNED
    )


def compute(local: Spec, target: Spec | None) -> Result:
    """The relocation's local (expected) and target values for one candidate
    (``target`` None: no candidate matched)."""
    kind = local.kind
    try:
        if kind.is_field:
            orig = _field_value(kind, local)
            new = _field_value(kind, target)
            adjust_fails = False
            if orig.size != new.size:
                assert target is not None
                adjust_fails = not _memsz_adjustable(
                    local.btf, orig.type_id, target.btf, new.type_id
                )
            return Result(
                orig.value,
                new.value,
                validate=orig.validate,
                orig_size=orig.size,
                new_size=new.size,
                fail_memsz_adjust=adjust_fails,
            )
        if kind.is_type:
            # a type id may change when objects are linked: never check it
            validate = kind != CoreKind.TYPE_ID_TARGET
            return Result(
                _type_value(kind, local), _type_value(kind, target), validate=validate
            )
        return Result(_enum_value(kind, local), _enum_value(kind, target))
    except _Poison:
        return Result(0, 0, poison=True)


# -- candidates and resolution ------------------------------------------------------------


def find_candidates(
    local_btf: AbstractBtf,
    local_id: int,
    vmlinux: LazyBtf,
    modules: Callable[[], list[LazyBtf]] | None = None,
) -> list[Candidate]:
    """Kernel types that may correspond to local type ``local_id``: same essential
    name, compatible kind; in vmlinux, else in every module."""
    local_t = local_btf[local_id]
    if not local_t.name:
        raise LoadError(f"CO-RE relocation of anonymous type [{local_id}]")
    wanted = essential_name(local_t.name)

    def search(btf: LazyBtf) -> list[Candidate]:
        return [
            Candidate(btf, i)
            for i in btf.find_flavors(wanted)
            if _kinds_compatible(btf[i], local_t)
        ]

    found = search(vmlinux)
    if found or modules is None:
        return found
    return [c for module in modules() for c in search(module)]


class Relocator:
    """Resolves the CO-RE records of one object against kernel BTF.

    Candidates are looked up once per local type and, as in libbpf, narrowed to
    those that matched each relocation resolved so far.
    """

    def __init__(
        self,
        local_btf: AbstractBtf,
        vmlinux: LazyBtf,
        modules: Callable[[], list[LazyBtf]] | None = None,
    ) -> None:
        self.local_btf = local_btf
        self.vmlinux = vmlinux
        self.modules = modules
        self._candidates: dict[int, list[Candidate]] = {}

    def resolve(self, relo: CoreRelo) -> Result:
        try:
            kind = CoreKind(relo.kind)
        except ValueError:
            raise LoadError(f"unknown CO-RE relocation kind {relo.kind}") from None
        if not 0 < relo.type_id < len(self.local_btf):
            raise LoadError(f"type id {relo.type_id} is not in the object's BTF")
        local = parse_spec(self.local_btf, relo)
        if kind == CoreKind.TYPE_ID_LOCAL:
            # the object's own type id: nothing to look up, nothing to check
            return Result(relo.type_id, relo.type_id, validate=False)
        candidates = self._candidates.get(relo.type_id)
        if candidates is None:
            candidates = find_candidates(
                self.local_btf, relo.type_id, self.vmlinux, self.modules
            )
            self._candidates[relo.type_id] = candidates
        chosen: tuple[Result, Spec] | None = None
        matching = []
        for candidate in candidates:
            target = match_spec(local, candidate.btf, candidate.type_id)
            if target is None:
                continue
            result = compute(local, target)
            if chosen is None:
                chosen = result, target
            elif target.bit_offset != chosen[1].bit_offset:
                raise LoadError(
                    f"CO-RE field offset ambiguity: {target.bit_offset} bits in one "
                    f"candidate, {chosen[1].bit_offset} in another"
                )
            elif (result.poison, result.new_val) != (
                chosen[0].poison,
                chosen[0].new_val,
            ):
                raise LoadError(
                    f"CO-RE relocation ambiguity: {result.new_val} from one "
                    f"candidate, {chosen[0].new_val} from another"
                )
            matching.append(candidate)
        if chosen is None:
            return compute(local, None)
        candidates[:] = matching
        return chosen[0]

    def apply(self, insns: bytearray, relos: list[CoreRelo]) -> None:
        """Resolve ``relos`` (``insn_off`` in bytes into ``insns``) and patch."""
        for number, relo in enumerate(relos):
            index = relo.insn_off // INSN_SIZE
            try:
                if relo.insn_off % INSN_SIZE:
                    raise LoadError("its offset is not a whole instruction")
                patch_insn(insns, index, self.resolve(relo))
            except LoadError as exc:
                try:
                    kind = CoreKind(relo.kind).name.lower()
                except ValueError:
                    kind = str(relo.kind)
                what = (
                    self.local_btf[relo.type_id].name or "<anon>"
                    if 0 < relo.type_id < len(self.local_btf)
                    else "?"
                )
                raise LoadError(
                    f"CO-RE relocation #{number} ({kind} of [{relo.type_id}] {what} "
                    f"+ {relo.access_str} at insn #{index}): {exc}"
                ) from None


# -- instructions -------------------------------------------------------------------------

_LD_IMM64 = 0x18
_CALL = 0x85
_CLASS_LD, _CLASS_LDX, _CLASS_ST, _CLASS_STX, _CLASS_ALU, _CLASS_ALU64 = (
    0,
    1,
    2,
    3,
    4,
    7,
)
_SOURCE_X = 0x08
_SIZE_BYTES = {0x00: 4, 0x08: 2, 0x10: 1, 0x18: 8}  # BPF_W, BPF_H, BPF_B, BPF_DW
_BYTES_SIZE = {v: k for k, v in _SIZE_BYTES.items()}


def poison_insn(insns: bytearray, index: int) -> None:
    """Turn instruction ``index`` into a call of a helper that does not exist."""
    _INSN.pack_into(insns, index * INSN_SIZE, _CALL, 0, 0, POISON_IMM)


def patch_insn(insns: bytearray, index: int, result: Result) -> None:
    """Apply ``result`` to instruction ``index``, checking it holds ``orig_val``.

    Handles ``rX = imm`` / ``rX op= imm``, ``ld_imm64``, and loads and stores
    (offset, and access size when the kernel's field is narrower).
    """
    at = index * INSN_SIZE
    if at + INSN_SIZE > len(insns):
        raise LoadError(f"CO-RE relocation of instruction #{index}, past the end")
    code, regs, off, imm = _INSN.unpack_from(insns, at)
    insn_class = code & 0x07
    is_ld_imm64 = code == _LD_IMM64
    if result.poison:
        # both halves of an ld_imm64, or the verifier complains about opcode 0
        if is_ld_imm64 and at + 2 * INSN_SIZE <= len(insns):
            poison_insn(insns, index + 1)
        poison_insn(insns, index)
        return
    where = f"instruction #{index} (code {code:#04x})"
    if insn_class in (_CLASS_ALU, _CLASS_ALU64):
        if code & _SOURCE_X:
            raise LoadError(f"CO-RE relocation of {where}: not an immediate operand")
        _check(result, imm, where)
        struct.pack_into("<I", insns, at + 4, result.new_val & 0xFFFFFFFF)
    elif insn_class in (_CLASS_LDX, _CLASS_ST, _CLASS_STX):
        _check(result, off, where)
        if result.new_val > 0x7FFF:
            raise LoadError(
                f"CO-RE relocation of {where}: offset {result.new_val} too big"
            )
        if result.fail_memsz_adjust:
            # the kernel's field has another size and is neither a pointer nor an
            # unsigned integer: no load of it would be correct
            poison_insn(insns, index)
            return
        if result.new_size != result.orig_size:
            size = code & 0x18
            if _SIZE_BYTES[size] != result.orig_size:
                raise LoadError(
                    f"CO-RE relocation of {where}: accesses {_SIZE_BYTES[size]} bytes, "
                    f"expected {result.orig_size}"
                )
            if result.new_size not in _BYTES_SIZE:
                raise LoadError(
                    f"CO-RE relocation of {where}: no load of {result.new_size} bytes"
                )
            code = (code & ~0x18) | _BYTES_SIZE[result.new_size]
        _INSN.pack_into(insns, at, code, regs, result.new_val, imm)
    elif insn_class == _CLASS_LD:
        if (
            not is_ld_imm64
            or at + 2 * INSN_SIZE > len(insns)
            or regs & 0xF0
            or off
            or insns[at + INSN_SIZE : at + INSN_SIZE + 4] != bytes(4)
        ):
            raise LoadError(f"CO-RE relocation of {where}: unexpected ld_imm64 form")
        (high,) = struct.unpack_from("<I", insns, at + INSN_SIZE + 4)
        _check(result, (imm & 0xFFFFFFFF) | high << 32, where)
        struct.pack_into("<I", insns, at + 4, result.new_val & 0xFFFFFFFF)
        struct.pack_into(
            "<I", insns, at + INSN_SIZE + 4, result.new_val >> 32 & 0xFFFFFFFF
        )
    else:
        raise LoadError(f"CO-RE relocation of {where}: not a relocatable instruction")


def _check(result: Result, value: int, where: str) -> None:
    if result.validate and value & _U64 != result.orig_val:
        raise LoadError(
            f"CO-RE relocation of {where}: holds {value}, expected {result.orig_val} "
            "(object and relocation records disagree)"
        )
