#!/usr/bin/env python3
"""Run an example: ``examples/run.py NAME [ARGS...]`` (or ``make example-NAME ARGS=...``).

Compiles ``examples/NAME/NAME.bpf.c`` with ``skelgen compile`` into
``build/examples/NAME/NAME_skel.py`` when the source is newer than the module, then
runs ``examples/NAME/app.py ARGS`` with that module importable.  A BPF error (not
root, a hook this kernel lacks) ends it with one line on stderr and exit status 1;
Ctrl-C ends it quietly.  ``--skel-dir DIR`` takes ``NAME_skel.py`` from DIR and
compiles nothing.
"""

from __future__ import annotations

import argparse
import runpy
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent
ROOT = EXAMPLES.parent
BUILD = ROOT / "build" / "examples"
SKELGEN_HEADERS = ROOT / "skelgen" / "include"


def names() -> list[str]:
    """Every example with a ``NAME/NAME.bpf.c`` and an ``app.py``."""
    return sorted(
        d.name
        for d in EXAMPLES.iterdir()
        if (d / f"{d.name}.bpf.c").is_file() and (d / "app.py").is_file()
    )


def build(name: str) -> Path:
    """The directory of ``NAME_skel.py``, compiled first when a source is newer."""
    source = EXAMPLES / name / f"{name}.bpf.c"
    module = BUILD / name / f"{name}_skel.py"
    inputs = [source, *(EXAMPLES / name).glob("*.h"), *SKELGEN_HEADERS.rglob("*.h")]
    newest = max(path.stat().st_mtime for path in inputs)
    if not module.is_file() or module.stat().st_mtime < newest:
        module.parent.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "skelgen", "compile", str(source)]
        command += ["-o", str(module)]
        if subprocess.run(command, check=False).returncode != 0:
            sys.exit(1)  # skelgen said why
    return module.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skel-dir", type=Path, help="take NAME_skel.py from here")
    parser.add_argument("name", choices=names(), metavar="NAME")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="the example's own")
    options = parser.parse_args()
    name: str = options.name
    skel_dir = options.skel_dir or build(name)
    sys.path[:0] = [str(skel_dir), str(EXAMPLES)]  # NAME_skel, netns
    app = EXAMPLES / name / "app.py"
    sys.argv = [str(app), *options.args]

    from skelgen_runtime import BPFError

    try:
        runpy.run_path(str(app), run_name="__main__")
    except BPFError as exc:
        sys.exit(f"{name}: {exc}")
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
