"""Which kinds of BPF link the running kernel makes, probed when first asked and
remembered, as libbpf and cilium/ebpf probe them."""

from __future__ import annotations

import errno
import functools
import os

from ..sys import commands as cmd
from ..uapi.bpf import AttachType, ProgType
from .programs import load_trivial


@functools.cache
def has_tcx_links() -> bool:
    """tc programs attach through tcx links (kernel 6.6).  A tcx link on interface
    index 0 fails with ENODEV where the kernel knows tcx, EINVAL where it does not."""
    try:
        prog_fd = load_trivial(ProgType.SCHED_CLS)
    except OSError:
        return False
    try:
        os.close(cmd.link_create(prog_fd, 0, AttachType.TCX_INGRESS))
    except OSError as exc:
        return exc.errno == errno.ENODEV
    finally:
        os.close(prog_fd)
    return True
