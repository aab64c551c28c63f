"""``Enum``, ``IntEnum``, ``Flag``, ``IntFlag`` and ``auto`` as the runtime uses them,
without ``enum``.

The enum module (with ``functools`` and ``collections`` under it) costs about half a
bare interpreter's start, and each class of the uapi tables a few hundred microseconds
more.  These classes keep what the runtime and its users rely on: members as class
attributes with ``name`` and ``value``; lookup by value (``MapType(1)``, ``ValueError``
when unknown) and by name (``MapType["HASH"]``); iteration, ``len``, ``__members__``;
aliases; ``auto()``; ``IntEnum``/``IntFlag`` members that are ints (``str()`` and
``format()`` as ints, as in Python 3.11); flags combined with ``|``, ``&``, ``^``,
``~``, tested with ``in`` and iterated over their members; pickling and copying by
value.  Type checkers see the standard classes.
"""

from __future__ import annotations

from .hints import TYPE_CHECKING, Any


class _Auto:
    """``auto()``: the next value, chosen when the class is made."""

    __slots__ = ()


def _is_member(name: str, value: Any) -> bool:
    if name.startswith("_"):
        return False
    return not (
        callable(value)
        or isinstance(value, (property, staticmethod, classmethod))
        or hasattr(value, "__get__")
    )


class _EnumType(type):
    """Turns the plain class attributes of an enum class into its members."""

    _member_map_: dict[str, Any]
    _value2member_map_: dict[Any, Any]
    _member_names_: list[str]

    def __new__(
        mcls, name: str, bases: tuple[type, ...], namespace: dict[str, Any]
    ) -> _EnumType:
        values = {k: v for k, v in namespace.items() if _is_member(k, v)}
        for key in values:
            del namespace[key]
        cls = super().__new__(mcls, name, bases, namespace)
        if not bases or not any(isinstance(b, _EnumType) for b in bases):
            return cls
        cls._member_map_ = {}
        cls._value2member_map_ = {}
        cls._member_names_ = []
        flag = hasattr(cls, "_compose")
        last = 0
        for key, value in values.items():
            if isinstance(value, _Auto):
                value = (1 << last.bit_length()) if flag else last + 1
            member = cls._value2member_map_.get(value)
            if member is None:  # not an alias
                member = cls._make_member(value, key)
                cls._value2member_map_[value] = member
                cls._member_names_.append(key)
            cls._member_map_[key] = member
            type.__setattr__(cls, key, member)
            if isinstance(value, int):
                last = max(last, value)
        return cls

    def _make_member(cls, value: Any, name: str | None) -> Any:
        member: Any = (
            int.__new__(cls, value) if issubclass(cls, int) else object.__new__(cls)
        )
        object.__setattr__(member, "_value_", value)
        object.__setattr__(member, "_name_", name)
        return member

    def __call__(cls, value: Any) -> Any:
        if isinstance(value, cls):
            return value
        try:
            return cls._value2member_map_[value]
        except (KeyError, TypeError):
            pass
        if hasattr(cls, "_compose") and isinstance(value, int):
            return cls._compose(value)
        raise ValueError(f"{value!r} is not a valid {cls.__qualname__}")

    def __getitem__(cls, name: str) -> Any:
        return cls._member_map_[name]

    def __iter__(cls) -> Any:
        return (cls._member_map_[name] for name in cls._member_names_)

    def __len__(cls) -> int:
        return len(cls._member_names_)

    def __contains__(cls, member: object) -> bool:
        return isinstance(member, cls) and member._name_ in cls._member_map_

    @property
    def __members__(cls) -> dict[str, Any]:
        return dict(cls._member_map_)

    def __repr__(cls) -> str:
        return f"<enum {cls.__name__!r}>"


class _EnumBase(metaclass=_EnumType):
    _value_: Any
    _name_: str | None

    @property
    def name(self) -> str | None:
        return self._name_

    @property
    def value(self) -> Any:
        return self._value_

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"cannot change the member {self!r}")

    def __repr__(self) -> str:
        return f"<{type(self).__name__}.{self._name_}: {self._value_!r}>"

    def __str__(self) -> str:
        return f"{type(self).__name__}.{self._name_}"

    def __reduce_ex__(self, _protocol: object) -> tuple[Any, tuple[Any]]:
        return type(self), (self._value_,)

    def __copy__(self) -> Any:
        return self

    def __deepcopy__(self, _memo: object) -> Any:
        return self


class _PlainEnum(_EnumBase):
    def __hash__(self) -> int:
        return hash(self._name_)

    def __eq__(self, other: object) -> bool:
        return self is other


class _IntEnum(_EnumBase, int):
    __str__ = int.__repr__
    __format__ = int.__format__
    __hash__ = int.__hash__


class _FlagBase(_EnumBase):
    """What flags add: composition and membership."""

    @classmethod
    def _compose(cls, value: int) -> Any:
        known = [m for m in cls if m._value_ and m._value_ & value == m._value_]
        rest = value & ~sum(m._value_ for m in known)
        if rest and not issubclass(cls, int):
            raise ValueError(f"{value!r} is not a valid {cls.__qualname__}")
        names = "|".join(m._name_ for m in known if m._name_) or None
        member = type(cls)._make_member(cls, value, names)
        cls._value2member_map_.setdefault(value, member)
        return member

    def _combine(self, other: Any, op: Any) -> Any:
        if isinstance(other, type(self)):
            other = other._value_
        elif not (isinstance(other, int) and isinstance(self, int)):
            return NotImplemented
        return type(self)(op(self._value_, other))  # type: ignore[call-arg]

    def __or__(self, other: Any) -> Any:
        return self._combine(other, int.__or__)

    def __and__(self, other: Any) -> Any:
        return self._combine(other, int.__and__)

    def __xor__(self, other: Any) -> Any:
        return self._combine(other, int.__xor__)

    __ror__, __rand__, __rxor__ = __or__, __and__, __xor__

    def __invert__(self) -> Any:
        every = sum(m._value_ for m in type(self))
        return type(self)(every & ~self._value_)  # type: ignore[call-arg]

    def __contains__(self, other: Any) -> bool:
        return other._value_ & self._value_ == other._value_  # type: ignore[no-any-return]

    def __iter__(self) -> Any:
        return (
            m for m in type(self) if m._value_ and m._value_ & self._value_ == m._value_
        )

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __bool__(self) -> bool:
        return bool(self._value_)


class _Flag(_FlagBase):
    def __hash__(self) -> int:
        return hash(self._value_)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, type(self)) and self._value_ == other._value_


class _IntFlag(_FlagBase, int):
    __str__ = int.__repr__
    __format__ = int.__format__


def _auto() -> Any:
    return _Auto()


for _cls, _name in (
    (_PlainEnum, "Enum"),
    (_IntEnum, "IntEnum"),
    (_Flag, "Flag"),
    (_IntFlag, "IntFlag"),
):
    _cls.__name__ = _cls.__qualname__ = _name  # as the standard classes show

if TYPE_CHECKING:
    from enum import (
        Enum as Enum,
        EnumType as EnumType,
        Flag as Flag,
        IntEnum as IntEnum,
        IntFlag as IntFlag,
        auto as auto,
    )
else:
    Enum, IntEnum, Flag, IntFlag, auto = _PlainEnum, _IntEnum, _Flag, _IntFlag, _auto
    EnumType = _EnumType  # isinstance(cls, EnumType): cls is an enum class
