"""Generated structs and unions refuse a name that is no field: a misspelled
``skel.rodata.min_duraton_ns = 5`` raises AttributeError with a did-you-mean,
where a plain ctypes structure would take the attribute and the filter it was
meant to set would be silently ignored."""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest
from generated import generate, import_file
from skelgen_runtime import Skeleton
from skelgen_runtime.cdata.types import BitField, FrozenError, Struct, Union, freeze


@pytest.fixture(scope="module")
def module(
    build_bpf: Callable[[str], Path], tmp_path_factory: pytest.TempPathFactory
) -> ModuleType:
    path, _ = generate(
        build_bpf("types_values"), tmp_path_factory.mktemp("fields"), all_types=True
    )
    return import_file(path)


def composites(module: ModuleType) -> list[type]:
    return [
        cls
        for cls in vars(module).values()
        if isinstance(cls, type)
        and issubclass(cls, (Struct, Union))
        and cls.__module__ == module.__name__
    ]


def field_names(cls: type) -> list[str]:
    names = [f[0] for f in cls._fields_ if not f[0].startswith("_")]
    return names + [n for n, v in vars(cls).items() if isinstance(v, BitField)]


def test_every_generated_class_refuses_a_misspelled_field(module: ModuleType) -> None:
    classes = composites(module)
    assert len(classes) >= 8
    for cls in classes:
        obj = cls()
        for name in field_names(cls):
            setattr(obj, name, getattr(obj, name))  # every field still takes writes
            typo = name + "x"
            with pytest.raises(AttributeError) as info:
                setattr(obj, typo, 1)
            message = str(info.value)
            assert message.startswith(f"{cls.__name__} has no field {typo!r}")
            assert f"did you mean {name!r}?" in message or len(name) < 3, message
        with pytest.raises(AttributeError, match=r"no field 'zzzzzz'$"):
            obj.zzzzzz = 1
        assert not hasattr(obj, "__dict__")


def test_a_misspelled_rodata_global_is_refused(module: ModuleType) -> None:
    skeleton = next(
        cls
        for cls in vars(module).values()
        if isinstance(cls, type)
        and issubclass(cls, Skeleton)
        and cls.__module__ == module.__name__
    )
    with skeleton.open() as skel:
        skel.rodata.scalars_ro.i = 9  # before load: writable
        assert skel.rodata.scalars_ro.i == 9
        with pytest.raises(AttributeError, match="did you mean 'scalars_ro'"):
            skel.rodata.scalars_r0 = 1
        with pytest.raises(AttributeError, match=r"no field 'ii'; did you mean 'i'"):
            skel.rodata.scalars_ro.ii = 1


def test_a_frozen_struct_refuses_writes_and_keeps_its_class(module: ModuleType) -> None:
    cls = next(c for c in composites(module) if c.__name__ == "scalars")
    value = cls()
    value.i = 3
    nested = cls.from_buffer(value)  # shares the memory, not frozen itself
    freeze(value)
    assert isinstance(value, cls) and type(value).__name__ == "scalars"
    assert value.i == 3
    with pytest.raises(FrozenError):
        value.i = 4
    nested.i = 5  # another view of the memory: only views derived from it are frozen
    assert value.i == 5
    assert repr(value).startswith("scalars(")
    assert ctypes.sizeof(value) == ctypes.sizeof(cls)
