"""A uprobe and a uretprobe on libc's ``abs()`` in this very process (libbpf-bootstrap's
uprobe): the program sees each call's argument and result."""

from __future__ import annotations

import ctypes
import os

from uprobe_skel import UprobeBpf

LIBC = "libc.so.6"


def main() -> None:
    libc = ctypes.CDLL(LIBC)
    with UprobeBpf.open_and_load() as skel:
        # SEC("uprobe") names no target: attach by hand, to this process only.
        skel.progs.abs_entry.attach_uprobe(LIBC, "abs", pid=os.getpid())
        skel.progs.abs_exit.attach_uprobe(LIBC, "abs", pid=os.getpid(), retprobe=True)
        for n in (-3, 7, -42):
            result = libc.abs(n)
            print(f"abs({n}) = {result}: the uprobe saw {skel.bss.last_arg}, "
                  f"the uretprobe {skel.bss.last_ret}")  # fmt: skip
        print(f"calls seen: {skel.bss.calls}")


if __name__ == "__main__":
    main()
