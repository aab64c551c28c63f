"""The names of ``typing`` the runtime uses, without importing ``typing`` at run time.

Annotations are never evaluated (``from __future__ import annotations`` everywhere), so
at run time a generic class only has to be subscriptable (as ``list`` is), a type variable only has to
exist and ``cast`` only returns its value.  Names not stood in for here come from
``typing`` itself when first asked for (``NamedTuple``, ``TypedDict``).
"""

from __future__ import annotations

TYPE_CHECKING = False

if TYPE_CHECKING:
    from typing import (
        Any as Any,
        BinaryIO as BinaryIO,
        ClassVar as ClassVar,
        Generic as Generic,
        Literal as Literal,
        NamedTuple as NamedTuple,
        NoReturn as NoReturn,
        Protocol as Protocol,
        Self as Self,
        TextIO as TextIO,
        TypedDict as TypedDict,
        TypeVar as TypeVar,
        Unpack as Unpack,
        cast as cast,
        overload as overload,
    )
else:

    class _TypeVar:
        __slots__ = ("__name__",)

        def __init__(self, name):
            self.__name__ = name

        def __repr__(self):
            return f"~{self.__name__}"

    class _Subscriptable:
        """``Generic[K, V]``, ``HashMap[int, int]``: an alias of the class, as
        ``list[int]`` is (``typing.get_origin``/``get_args`` read it); a subclass of
        one has the type variables of its bases in ``__parameters__``, as in typing."""

        __slots__ = ()
        __parameters__ = ()
        __class_getitem__ = classmethod(type(list[int]))

        def __init_subclass__(cls, **options):
            super().__init_subclass__(**options)
            parameters = []
            pending = list(cls.__dict__.get("__orig_bases__", ()))
            while pending:  # breadth first: HashMap[K, PerCpuValues[V]] → K, V
                alias = pending.pop(0)
                for arg in getattr(alias, "__args__", ()):
                    if isinstance(arg, _TypeVar):
                        if arg not in parameters:
                            parameters.append(arg)
                    else:
                        pending.append(arg)
            cls.__parameters__ = tuple(parameters)

    class Generic(_Subscriptable):
        __slots__ = ()

    class Protocol(_Subscriptable):
        __slots__ = ()

    class _Special:
        """An annotation-only form (``ClassVar[int]``, ``Literal["a"]``): itself."""

        __slots__ = ("_name",)

        def __init__(self, name):
            self._name = name

        def __getitem__(self, _params):
            return self

        def __repr__(self):
            return f"typing.{self._name}"

    Any = _Special("Any")
    BinaryIO = _Special("BinaryIO")
    ClassVar = _Special("ClassVar")
    Literal = _Special("Literal")
    NoReturn = _Special("NoReturn")
    Self = _Special("Self")
    TextIO = _Special("TextIO")
    Unpack = _Special("Unpack")

    def TypeVar(name, *_constraints, **_options):
        return _TypeVar(name)

    def cast(_type, value):
        return value

    def overload(function):
        return function  # the undecorated definition that follows replaces it

    def __getattr__(name):
        if name.startswith("__"):  # __path__ and the like, asked by the import system
            raise AttributeError(name)
        import typing

        return getattr(typing, name)
