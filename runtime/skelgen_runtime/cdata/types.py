"""Base classes for the ctypes classes that generated modules define.

``ctypes.Structure`` declares ``__getattr__ -> Any`` for type checkers, which would
hide every misspelled field.  Under ``TYPE_CHECKING`` :class:`Struct` and
:class:`Union` are therefore plain classes: mypy sees only the annotated fields of
each generated class.  At run time they are real ctypes types that also refuse
writes once their memory is frozen (``.rodata`` after load), and — generated classes
having ``__slots__ = ()`` — an assignment to a name that is no field
(``AttributeError`` with a did-you-mean), where a plain ctypes structure would take
any attribute and a misspelled field would go unnoticed.
"""

from __future__ import annotations

import ctypes
from collections.abc import Iterator

from ..errors import BPFError
from ..lean.hints import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar

T = TypeVar("T")


class FrozenError(BPFError, AttributeError):
    """A write to memory the kernel has frozen (``.rodata`` after load)."""


def _check_writable(obj: Any) -> Any:
    """Refuse a write into frozen memory; returns the object that owns the memory."""
    # Class attributes: found without raising, unlike an unset slot (~1 µs).
    node = obj
    while True:
        if getattr(type(node), "_frozen_", False):
            raise FrozenError(
                f"{type(obj).__name__} is read-only: .rodata is frozen once the object is loaded"
            )
        if node._b_base_ is None:
            return node
        node = node._b_base_


_MARKED_CLASSES: dict[tuple[type, str], type] = {}


def _mark(obj: Any, flag: str) -> None:
    """Set the class attribute ``flag`` for ``obj`` alone: its class becomes a
    subclass saying so (the instance has no dict to say it in)."""
    cls: Any = type(obj)
    if getattr(cls, flag, False):
        return
    marked = _MARKED_CLASSES.get((cls, flag))
    if marked is None:
        namespace = {
            "__slots__": (),
            flag: True,
            "__module__": cls.__module__,
            "__qualname__": cls.__qualname__,
        }
        marked = type(cls)(cls.__name__, (cls,), namespace)
        _MARKED_CLASSES[cls, flag] = marked
    object.__setattr__(obj, "__class__", marked)


def freeze(obj: Any) -> None:
    """Refuse writes through ``obj`` and every object that shares its memory."""
    _mark(obj, "_frozen_")


def write_through(obj: Any) -> None:
    """After each field or array element write through ``obj`` (or an object
    sharing its memory), call ``obj._memory_.flush()``: memory kept in step with a
    kernel map that cannot be mmap'd."""
    _mark(obj, "_write_through_")


if TYPE_CHECKING:

    class Struct:
        _fields_: ClassVar[list[tuple[str, Any] | tuple[str, Any, int]]]
        _anonymous_: ClassVar[tuple[str, ...]]
        _pack_: ClassVar[int]

        def __init__(self, *args: Any, **kwargs: Any) -> None: ...
        @classmethod
        def from_buffer(cls: type[T], source: Any, offset: int = 0) -> T: ...
        @classmethod
        def from_buffer_copy(cls: type[T], source: Any, offset: int = 0) -> T: ...
        @classmethod
        def from_address(cls: type[T], address: int) -> T: ...

    class Union(Struct): ...

else:

    class _Guarded:
        __slots__ = ()

        def __setattr__(self, name: str, value: Any) -> None:
            owner = _check_writable(self)
            try:
                super().__setattr__(name, value)
            except AttributeError:
                # Generated classes have ``__slots__ = ()``: no instance dict, so a
                # name that is no field lands here (and only then: no cost on fields).
                if hasattr(type(self), name):
                    raise
                raise _not_a_field(self, name) from None
            _written(owner)

        def __repr__(self) -> str:
            names = [f[0] for f in self._fields_ if not f[0].startswith("_")]
            names += [
                n
                for klass in type(self).__mro__
                for n, v in vars(klass).items()
                if isinstance(v, BitField)
            ]
            body = ", ".join(f"{n}={getattr(self, n)!r}" for n in names)
            return f"{type(self).__name__}({body})"

    class Struct(_Guarded, ctypes.Structure):
        __slots__ = ("_memory_",)  # what keeps a data section's memory alive
        _pack_ = 1
        _frozen_ = False  # see freeze()
        _write_through_ = False  # see write_through()

    class Union(_Guarded, ctypes.Union):
        __slots__ = ("_memory_",)
        _pack_ = 1
        _frozen_ = False
        _write_through_ = False

    class _Probe(ctypes.Structure):
        _fields_ = [("x", ctypes.c_int)]

    _CField = type(_Probe.x)

    def _field_names(cls: type) -> list[str]:
        """The names a class reads and writes as fields: ctypes fields (those of
        anonymous members included) and bitfields, padding left out."""
        return [
            name
            for klass in cls.__mro__
            for name, value in vars(klass).items()
            if isinstance(value, (_CField, BitField)) and not name.startswith("_")
        ]

    def _not_a_field(obj: Any, name: str) -> AttributeError:
        import difflib  # for the error message only

        cls = type(obj)
        close = difflib.get_close_matches(name, _field_names(cls), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return AttributeError(
            f"{cls.__name__} has no field {name!r}{hint}", name=name, obj=obj
        )


class CArray(Protocol[T]):
    """What mypy knows of a fixed-size C array field whose elements read as ``T``."""

    def __getitem__(self, index: int) -> T: ...
    def __setitem__(self, index: int, value: T) -> None: ...
    def __len__(self) -> int: ...
    def __iter__(self) -> Iterator[T]: ...


_ARRAY_TYPES: dict[tuple[Any, int], Any] = {}


def _written(owner: Any) -> None:
    """After a write into ``owner``'s memory (see :func:`write_through`)."""
    if getattr(type(owner), "_write_through_", False):
        owner._memory_.flush()


def _array_setitem(self: Any, index: Any, value: Any) -> None:
    owner = _check_writable(self)
    ctypes.Array.__setitem__(self, index, value)
    _written(owner)


def _array_repr(self: Any) -> str:
    return repr(list(self))


def _strings_getitem(self: Any, index: Any) -> Any:
    item = ctypes.Array.__getitem__(self, index)
    return [s.value for s in item] if isinstance(index, slice) else item.value


def _strings_setitem(self: Any, index: Any, value: Any) -> None:
    owner = _check_writable(self)
    if not isinstance(index, slice):
        ctypes.Array.__getitem__(self, index).value = value
    else:
        targets = ctypes.Array.__getitem__(self, index)
        values = list(value)
        if len(values) != len(targets):
            raise ValueError("Can only assign sequence of same size")
        for target, item in zip(targets, values, strict=True):
            target.value = item
    _written(owner)


def is_char_array(element: Any) -> bool:
    """A char array type: what a field, an array row, a map key or value reads as
    ``bytes``."""
    item_type: Any = getattr(element, "_type_", None)
    return (
        isinstance(element, type)
        and issubclass(element, ctypes.Array)
        and (item_type is ctypes.c_char)
    )


def array(element: Any, length: int) -> Any:
    """``element * length`` whose item writes respect :func:`freeze`.

    An array of char arrays (``char names[4][16]``) reads and writes its items as
    ``bytes``, as a char array field does: up to the first NUL; a shorter value is
    stored with a NUL after it, a longer one raises ValueError."""
    key = (element, length)
    cls = _ARRAY_TYPES.get(key)
    if cls is None:
        methods: dict[str, Any] = {
            "__setitem__": _array_setitem,
            "__repr__": _array_repr,
        }
        if is_char_array(element):
            methods = {
                "__getitem__": _strings_getitem,
                "__setitem__": _strings_setitem,
                "__repr__": _array_repr,
            }
        name = f"{getattr(element, '__name__', 'elem')}_x{length}"
        cls = type(
            name,
            (ctypes.Array,),
            {"_type_": element, "_length_": length, "_frozen_": False, **methods},
        )
        _ARRAY_TYPES[key] = cls
    return cls


class BitField:
    """A C bitfield at an exact bit position, read and written as an int.

    ctypes' own bitfields follow its layout algorithm, not the compiler's; this
    descriptor works from the bit offset BTF records, so it is exact by construction.
    """

    def __init__(self, bit_offset: int, bits: int, signed: bool = False) -> None:
        self.byte_offset = bit_offset // 8
        self.shift = bit_offset % 8
        self.bits = bits
        self.signed = signed
        self.nbytes = (self.shift + bits + 7) // 8
        self.mask = (1 << bits) - 1

    def __get__(self, obj: object, owner: Any = None) -> int:
        raw = int.from_bytes(
            ctypes.string_at(ctypes.addressof(obj) + self.byte_offset, self.nbytes),  # type: ignore[arg-type]
            "little",
        )
        value = (raw >> self.shift) & self.mask
        if self.signed and value >> (self.bits - 1):
            value -= 1 << self.bits
        return value

    def __set__(self, obj: object, value: int) -> None:
        _check_writable(obj)
        address = ctypes.addressof(obj) + self.byte_offset  # type: ignore[arg-type]
        raw = int.from_bytes(ctypes.string_at(address, self.nbytes), "little")
        raw &= ~(self.mask << self.shift)
        raw |= (int(value) & self.mask) << self.shift
        ctypes.memmove(address, raw.to_bytes(self.nbytes, "little"), self.nbytes)


def check_sizes(expected: dict[Any, int]) -> None:
    """Fail at import when this host's ctypes disagrees with the sizes BTF recorded."""
    wrong = [
        f"{cls.__name__}: {ctypes.sizeof(cls)} != {size}"
        for cls, size in expected.items()
        if ctypes.sizeof(cls) != size
    ]
    if wrong:
        raise ImportError(
            "generated ctypes layout does not match BTF: " + "; ".join(wrong)
        )
