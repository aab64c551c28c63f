"""The running kernel's BTF (vmlinux and modules), and attach-target lookups.

Kernel BTF is read as :class:`~.btf.lazy.LazyBtf`: types are decoded when used.
Its index (one pass over ~130k records, ~0.1 s) is kept twice: per process for as
long as the file is unchanged, and on disk keyed by the SHA-256 of the BTF bytes,
so that a new process pays a few milliseconds (in :func:`..cache.cache_dir`; where
it cannot be written, nothing is cached).
"""

from __future__ import annotations

import functools
import os

from ..btf import types as bt
from ..btf.btf import AbstractBtf
from ..btf.lazy import BtfIndex, LazyBtf, check_index
from ..errors import LoadError, ObjectError
from ..uapi.bpf import AttachType, ProgType

BTF_DIR = "/sys/kernel/btf"
VMLINUX_BTF = f"{BTF_DIR}/vmlinux"


def load_btf_file(path: str = VMLINUX_BTF) -> LazyBtf:
    """Kernel BTF from ``path``: raw BTF (``/sys/kernel/btf/vmlinux``, BTFHub files)
    or an ELF file with a ``.BTF`` section (a ``vmlinux`` image)."""
    try:
        st = os.stat(path)
    except OSError as exc:
        raise LoadError(f"kernel BTF {path}: {exc.strerror}") from None
    return _load_btf_file(path, st.st_size, st.st_mtime_ns, st.st_ino)


@functools.lru_cache(maxsize=4)
def _load_btf_file(path: str, _size: int, _mtime_ns: int, _ino: int) -> LazyBtf:
    try:
        data = _read(path)
        if data[:4] == b"\x7fELF":  # a vmlinux image, not raw BTF
            from ..obj.elf import btf_bytes  # and pyelftools: for ELF files only

            data = btf_bytes(data)
        return LazyBtf(data, index=_cached_index(data))
    except ObjectError as exc:
        raise LoadError(f"kernel BTF {path}: {exc}") from None


def module_btf_names() -> list[str]:
    """Kernel modules that have BTF (``/sys/kernel/btf/<module>``)."""
    try:
        return sorted(n for n in os.listdir(BTF_DIR) if n != "vmlinux")
    except OSError:
        return []


def load_module_btf(name: str, base: LazyBtf) -> LazyBtf:
    """A module's split BTF on top of vmlinux's (small: indexed in process)."""
    path = os.path.join(BTF_DIR, name)
    try:
        st = os.stat(path)
    except OSError as exc:
        raise LoadError(f"kernel BTF {path}: {exc.strerror}") from None
    return _load_module_btf(path, base, st.st_size, st.st_mtime_ns, st.st_ino)


@functools.lru_cache(maxsize=64)
def _load_module_btf(
    path: str, base: LazyBtf, _size: int, _mtime_ns: int, _ino: int
) -> LazyBtf:
    try:
        return LazyBtf(_read(path), base=base)
    except ObjectError as exc:
        raise LoadError(f"kernel BTF {path}: {exc}") from None


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as exc:
        raise LoadError(f"kernel BTF {path}: {exc.strerror}") from None


# -- index cache on disk ---------------------------------------------------------------


def _cached_index(data: bytes) -> BtfIndex | None:
    """The stored index of these bytes; None (build it) when there is none yet."""
    import hashlib

    from ..cache import cache_dir, store_file  # loading kernel BTF only

    directory = cache_dir()
    if directory is None:
        return None
    path = directory / f"btf-{hashlib.sha256(data).hexdigest()[:40]}.idx"
    try:
        stored = BtfIndex.from_bytes(path.read_bytes())
    except OSError:
        stored = None
    if stored is not None and check_index(data, stored):
        return stored
    index = LazyBtf(data).index
    store_file(path, index.to_bytes())
    return index


# -- attach targets -------------------------------------------------------------------


def attach_btf_id(
    btf: AbstractBtf, prog_type: ProgType, attach_type: AttachType | None, target: str
) -> int:
    """The BTF id the kernel wants in ``attach_btf_id`` for a BTF-attached program."""
    kind: type[bt.Func] | type[bt.Typedef]
    if prog_type == ProgType.LSM:
        name, kind = f"bpf_lsm_{target}", bt.Func
    elif attach_type == AttachType.TRACE_RAW_TP:
        name, kind = f"btf_trace_{target}", bt.Typedef
    elif attach_type == AttachType.TRACE_ITER:
        name, kind = f"bpf_iter_{target}", bt.Func
    else:
        name, kind = target, bt.Func
    ids = btf.find(name, kind)
    if not ids:
        raise LoadError(f"attach target {target!r} ({name}) is not in the kernel's BTF")
    return ids[0]
