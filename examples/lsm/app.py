"""A BPF LSM program on the ``task_kill`` hook (libbpf-bootstrap's lsm): signals to
one protected process are refused.  The example starts that process itself, tries to
stop it with and without the program attached."""

from __future__ import annotations

import os
import signal
import subprocess

from lsm_skel import LsmBpf


def terminate(pid: int) -> str:
    try:
        os.kill(pid, signal.SIGTERM)
    except PermissionError:
        return "refused (EPERM)"
    return "delivered"


def main() -> None:
    with subprocess.Popen(["sleep", "30"]) as child, LsmBpf.open() as skel:
        try:
            skel.rodata.protected_tgid = child.pid
            skel.load()
            with skel.progs.protect.attach():
                print(f"SIGTERM to protected pid {child.pid}: {terminate(child.pid)}")
            print(f"SIGTERM after detach: {terminate(child.pid)}")
            print(f"denied by the program: {skel.bss.denied}")
        finally:
            child.kill()


if __name__ == "__main__":
    main()
