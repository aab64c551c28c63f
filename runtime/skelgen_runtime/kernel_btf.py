"""The running kernel's BTF, loaded once per process, and attach-target lookups."""

from __future__ import annotations

import functools

from .btf import Btf
from .btf import types as bt
from .errors import LoadError
from .sections import AttachType, ProgType

VMLINUX_BTF = "/sys/kernel/btf/vmlinux"


@functools.lru_cache(maxsize=4)
def load_btf_file(path: str = VMLINUX_BTF) -> Btf:
    try:
        with open(path, "rb") as f:
            return Btf.from_bytes(f.read())
    except OSError as exc:
        raise LoadError(f"kernel BTF {path}: {exc.strerror}") from None


def attach_btf_id(btf: Btf, prog_type: ProgType, attach_type: AttachType | None,
                  target: str) -> int:
    """The BTF id the kernel wants in ``attach_btf_id`` for a BTF-attached program."""
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
