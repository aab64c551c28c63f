"""The hatchling build hook: BPF sources become modules when a wheel is built.

    [build-system]
    requires = ["hatchling", "skelgen"]
    build-backend = "hatchling.build"

    [tool.hatch.build.targets.wheel.hooks.skelgen]
    # no options: the sources are listed in [tool.skelgen] (skelgen.project)

A wheel (``pip wheel .``, ``python -m build``) gets every module of
``[tool.skelgen]`` at its ``output`` path, generated in a scratch directory, so
the project tree is left alone and the modules need not be committed.  An
editable install (``pip install -e .``) imports the package from the tree, so
there the modules are written next to their sources (add them to .gitignore).
hatchling finds the hook through the ``hatch`` entry point of the ``skelgen``
distribution.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from hatchling.builders.config import BuilderConfig
from hatchling.builders.hooks.plugin.interface import BuildHookInterface
from hatchling.plugin import hookimpl
from skelgen_runtime.errors import BPFError

from .cli import write_atomically
from .compile import CompileError
from .ctypes_emit import GeneratorError
from .pipeline import module_from_source
from .project import ModuleEntry, ProjectConfig, project_config

T = TypeVar("T")


class SkelgenBuildHook(BuildHookInterface[BuilderConfig]):
    PLUGIN_NAME = "skelgen"

    _scratch: str | None = None

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel":
            return  # an sdist ships the BPF sources, not the modules
        root = Path(self.root)
        try:
            config = project_config(self.metadata.config)
        except BPFError as exc:
            raise SystemExit(f"skelgen: {root / 'pyproject.toml'}: {exc}") from None
        for entry in config.modules:
            produce = partial(_module, root, config, entry)
            if version == "editable":
                _guarded(entry, partial(write_atomically, root / entry.output, produce))
                continue
            text = _guarded(entry, produce)
            if self._scratch is None:  # only now: a failed build leaves none
                self._scratch = tempfile.mkdtemp(prefix="skelgen-hatch-")
            path = Path(self._scratch, entry.output)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            build_data["force_include"][str(path)] = (
                self.build_config.get_distribution_path(entry.output)
            )

    def finalize(
        self, version: str, build_data: dict[str, Any], artifact_path: str
    ) -> None:
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None


def _module(root: Path, config: ProjectConfig, entry: ModuleEntry) -> str:
    return module_from_source(
        root / entry.source,
        entry.settings,
        clang=config.clang,
        btf_path=config.btf,
        clang_flags=entry.clang_flags,
        cwd=root,
    )


def _guarded(entry: ModuleEntry, step: Callable[[], T]) -> T:
    """``step()``; a failure ends the build with one line (after clang's
    diagnostics) rather than a traceback."""
    try:
        return step()
    except CompileError as exc:
        sys.stderr.write(exc.diagnostics)
        raise SystemExit(f"skelgen: {exc}") from None
    except (BPFError, GeneratorError) as exc:
        raise SystemExit(f"skelgen: {entry.source}: {exc}") from None
    except OSError as exc:
        raise SystemExit(
            f"skelgen: {exc.filename or entry.output}: {exc.strerror or exc}"
        ) from None


@hookimpl
def hatch_register_build_hook() -> type[SkelgenBuildHook]:
    return SkelgenBuildHook
