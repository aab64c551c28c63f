"""Generate a skeleton module in-process and import it: what the generator tests share."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from skelgen_runtime.obj.elf import object_name_from_path, read_object

from skelgen.module import Generated, Options, build


def generate(
    obj: Path,
    out_dir: Path,
    *,
    all_types: bool = False,
    extra_types: tuple[str, ...] = (),
    suffix: str = "",
) -> tuple[Path, Generated]:
    """Write ``<object name>_skel<suffix>.py`` into ``out_dir``; also return the
    names the generator gave to BTF types."""
    elf = obj.read_bytes()
    spec = read_object(elf, object_name_from_path(obj), origin=str(obj))
    options = Options(
        source_name=obj.name, extra_types=list(extra_types), all_types=all_types
    )
    generated = build(spec, elf, options)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{spec.name}_skel{suffix}.py"
    path.write_text(generated.source)
    return path, generated


def import_file(path: Path) -> ModuleType:
    """Import a module from its path under a name no other test uses."""
    name = f"skel_{abs(hash(str(path)))}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module
