"""``dataclass`` and ``field`` as the runtime uses them, without ``dataclasses``.

The standard decorator imports ``inspect`` (and with it ``ast``, ``dis``, ``tokenize``)
and compiles the methods of each class when it is defined: a few hundred microseconds a
class, some seventy classes.  Here defining a class only records its fields; its
``__init__`` is compiled the first time an instance is made (unpickling makes none),
and ``__repr__``, ``__eq__`` and ``__hash__`` are shared.  What is supported is what the
runtime uses: defaults, ``field(default=..., default_factory=...)``, ``frozen=True``,
inheritance between records, and ``fields``, ``replace``, ``is_dataclass``.  The
behaviour is the standard one: keyword or positional arguments in field order,
``__eq__`` on same-class field tuples, mutable records unhashable, frozen ones hashed
by their fields and refusing assignment with ``FrozenInstanceError``.
"""

from __future__ import annotations

from .hints import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from collections.abc import Callable

_T = TypeVar("_T")
_FIELDS = "__record_fields__"
_MISSING: Any = type("MISSING", (), {"__repr__": lambda self: "MISSING"})()


class Field:
    """One field: its name, and its default or the factory of its default."""

    __slots__ = ("default", "default_factory", "name", "type")

    def __init__(
        self, default: Any = _MISSING, default_factory: Any = _MISSING
    ) -> None:
        self.name = ""
        self.type: Any = None  # the annotation, unevaluated
        self.default = default
        self.default_factory = default_factory

    def __repr__(self) -> str:
        return f"Field(name={self.name!r})"


class FrozenInstanceError(AttributeError):
    """Assignment to a field of a frozen record."""


def _field(*, default: Any = _MISSING, default_factory: Any = _MISSING) -> Any:
    return Field(default, default_factory)


def _own_fields(cls: type) -> list[Field]:
    found = []
    # the class's own annotations, unevaluated (inspect is what this module avoids)
    annotations = cls.__dict__.get("__annotations__", {})  # noqa: RUF063
    for name, annotation in annotations.items():
        if str(annotation).startswith(("ClassVar", "typing.ClassVar")):
            continue
        value = cls.__dict__.get(name, _MISSING)
        if isinstance(value, Field):
            f = value
            if f.default is _MISSING:
                delattr(cls, name)
            else:
                setattr(cls, name, f.default)
        else:
            f = Field(value)
        f.name = name
        f.type = annotation
        found.append(f)
    return found


def _init_source(cls: type, fields: tuple[Field, ...], frozen: bool) -> str:
    params, body = ["self"], []
    for f in fields:
        name = f.name
        if f.default_factory is not _MISSING:
            params.append(f"{name}=_MISSING")
            value = f"_factory_{name}() if {name} is _MISSING else {name}"
        else:
            params.append(name if f.default is _MISSING else f"{name}=_default_{name}")
            value = name
        body.append(
            f"_setattr(self, {name!r}, {value})" if frozen else f"self.{name} = {value}"
        )
    return (
        f"def __init__({', '.join(params)}):\n    "
        + ("\n    ".join(body) or "pass")
        + "\n"
    )


def _compiled_init(cls: type) -> Callable[..., None]:
    fields: tuple[Field, ...] = getattr(cls, _FIELDS)
    frozen: bool = cls.__dict__["__record_frozen__"]
    namespace: dict[str, Any] = {"_MISSING": _MISSING, "_setattr": object.__setattr__}
    for f in fields:
        namespace[f"_default_{f.name}"] = f.default
        namespace[f"_factory_{f.name}"] = f.default_factory
    exec(_init_source(cls, fields, frozen), namespace)
    init: Callable[..., None] = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__annotations__ = {f.name: f.type for f in fields} | {"return": None}
    return init


def _first_init(self: Any, *args: Any, **kwargs: Any) -> None:
    """Every record's ``__init__`` until its first call compiles the real one."""
    owner = next(
        c for c in type(self).__mro__ if c.__dict__.get("__init__") is _first_init
    )
    init = _compiled_init(owner)
    type.__setattr__(owner, "__init__", init)
    init(self, *args, **kwargs)


class _InitSignature:
    """``inspect.signature(record_class)``: the fields, as for a dataclass (the
    placeholder ``__init__`` would show ``*args, **kwargs``)."""

    def __get__(self, instance: Any, owner: type) -> Any:
        import inspect

        signature = inspect.signature(_compiled_init(owner))
        return signature.replace(parameters=list(signature.parameters.values())[1:])


def _values(self: Any) -> tuple[Any, ...]:
    return tuple(getattr(self, f.name) for f in getattr(self, _FIELDS))


def _eq(self: Any, other: Any) -> Any:
    if other.__class__ is not self.__class__:
        return NotImplemented
    return _values(self) == _values(other)


def _hash(self: Any) -> int:
    return hash(_values(self))


_repr_running: set[tuple[int, int]] = set()


def _repr(self: Any) -> str:
    from _thread import get_ident

    key = (id(self), get_ident())
    if key in _repr_running:
        return "..."
    _repr_running.add(key)
    try:
        shown = ", ".join(
            f"{f.name}={getattr(self, f.name)!r}" for f in getattr(self, _FIELDS)
        )
    finally:
        _repr_running.discard(key)
    return f"{type(self).__qualname__}({shown})"


def _frozen_setattr(self: Any, name: str, value: Any) -> None:
    if any(f.name == name for f in getattr(self, _FIELDS)):
        raise FrozenInstanceError(f"cannot assign to field {name!r}")
    object.__setattr__(self, name, value)


def _frozen_delattr(self: Any, name: str) -> None:
    if any(f.name == name for f in getattr(self, _FIELDS)):
        raise FrozenInstanceError(f"cannot delete field {name!r}")
    object.__delattr__(self, name)


def _make(cls: type[_T], frozen: bool) -> type[_T]:
    inherited: dict[str, Field] = {}
    for base in reversed(cls.__mro__[1:]):
        inherited.update((f.name, f) for f in base.__dict__.get(_FIELDS, ()))
    inherited.update((f.name, f) for f in _own_fields(cls))
    own = cls.__dict__
    methods: dict[str, Any] = {
        _FIELDS: tuple(inherited.values()),
        "__record_frozen__": frozen,
        "__match_args__": tuple(inherited),
    }
    if "__init__" not in own:
        methods["__init__"] = _first_init
        methods["__signature__"] = _InitSignature()
    for name, method in (("__repr__", _repr), ("__eq__", _eq)):
        if name not in own:
            methods[name] = method
    if frozen:
        methods["__setattr__"] = _frozen_setattr
        methods["__delattr__"] = _frozen_delattr
        if own.get("__hash__") is None:
            methods["__hash__"] = _hash
    elif "__hash__" not in own:
        methods["__hash__"] = None  # mutable and compared by value: unhashable
    for name, value in methods.items():
        type.__setattr__(cls, name, value)
    return cls


def _dataclass(cls: type[_T] | None = None, /, *, frozen: bool = False) -> Any:
    if cls is None:
        return lambda c: _make(c, frozen)
    return _make(cls, frozen)


def _fields(record: Any) -> tuple[Field, ...]:
    try:
        return getattr(record, _FIELDS)  # type: ignore[no-any-return]
    except AttributeError:
        raise TypeError("must be called with a dataclass type or instance") from None


def _is_dataclass(record: Any) -> bool:
    return hasattr(record, _FIELDS)


def _replace(record: _T, /, **changes: Any) -> _T:
    values = {f.name: getattr(record, f.name) for f in _fields(record)}
    return type(record)(**(values | changes))


if TYPE_CHECKING:
    from dataclasses import (
        dataclass as dataclass,
        field as field,
        fields as fields,
        is_dataclass as is_dataclass,
        replace as replace,
    )
else:
    dataclass, field, fields = _dataclass, _field, _fields
    is_dataclass, replace = _is_dataclass, _replace
