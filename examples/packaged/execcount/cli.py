"""The ``execcount`` command.

    execcount [-d SECONDS] [-u UID] [-- COMMAND [ARG...]]

Prints every exec() as it happens, then how many times each command was
executed.  With a COMMAND it runs that once the probe is attached and stops when
it exits (with its exit status); otherwise it stops after SECONDS, or at Ctrl-C.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

from skelgen_runtime import BPFError

# Generated from bpf/execcount.bpf.c when the wheel is built (see pyproject.toml).
from .execcount_skel import ExeccountBpf, event


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return run(args.command, args.duration, args.uid)
    except BPFError as exc:  # no privilege, no BTF, a verifier rejection...
        print(f"execcount: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # the command could not be started
        print(f"execcount: {exc.filename}: {exc.strerror}", file=sys.stderr)
        return 127


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="execcount", description="Trace exec()s and count them per command."
    )
    parser.add_argument(
        "-d", "--duration", type=float, help="stop after this many seconds"
    )
    parser.add_argument("-u", "--uid", type=int, help="only this user's exec()s")
    parser.add_argument(
        "command", nargs="*", help="run this, and stop when it exits (after --)"
    )
    return parser


def run(command: list[str], duration: float | None, uid: int | None) -> int:
    with ExeccountBpf.open() as skel:
        if uid is not None:
            skel.rodata.target_uid = uid  # a constant to the verifier
        skel.load()
        skel.attach()
        print(f"{'PID':>7} {'PPID':>7} {'COMM':<16} FILENAME", flush=True)
        status = 0
        if command:
            child = subprocess.Popen(command)
            while child.poll() is None:
                skel.maps.events.poll(_show, timeout=0.1)
            status = child.returncode
        else:
            deadline = None if duration is None else time.monotonic() + duration
            try:
                while deadline is None or time.monotonic() < deadline:
                    skel.maps.events.poll(_show, timeout=0.1)
            except KeyboardInterrupt:
                pass
        skel.maps.events.consume(_show)  # what arrived since the last poll
        counts = sorted(
            (
                (count, key.comm.decode(errors="replace"))
                for key, count in skel.maps.counts.items()
            ),
            key=lambda item: (-item[0], item[1]),
        )
        print(f"\n{'COUNT':>7} COMM")
        for count, comm in counts:
            print(f"{count:>7} {comm}")
        return status


def _show(e: event) -> None:
    comm = e.comm.decode(errors="replace")
    print(f"{e.pid:>7} {e.ppid:>7} {comm:<16} {e.filename.decode(errors='replace')}")
