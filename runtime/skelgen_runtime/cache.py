"""Files kept between processes (the kernel BTF index, the generator's vmlinux.h):
where they live and how they are written.

The directory is ``$SKELGEN_CACHE_DIR``, else ``$XDG_CACHE_HOME/skelgen-runtime``,
else ``~/.cache/skelgen-runtime``.  Entries are named by a hash of what they were
computed from, so they never go stale; writing them is best effort.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def cache_dir() -> Path | None:
    explicit = os.environ.get("SKELGEN_CACHE_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg:
        return Path(xdg) / "skelgen-runtime"
    home = os.environ.get("HOME")
    return Path(home) / ".cache" / "skelgen-runtime" if home else None


def store_file(path: Path, raw: bytes) -> bool:
    """Write atomically (readers never see half a file); whether it was written
    (a failure only costs the next process the time to compute it again)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(raw)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError:
        return False
    return True
