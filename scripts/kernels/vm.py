"""Boot a kernel of ``debian.py`` in QEMU with virtme-ng and run one command in it.

The guest is the host itself seen through a read-only 9p root: the same Python, the
same ``.venv``, the same repository.  2 vCPUs, 3 GiB, no network device; KVM when the
CPU offers it, else TCG.  One VM at a time on this machine: a run holds
``/tmp/skelgen-vm.lock`` while its VM is up.
"""

from __future__ import annotations

import fcntl
import os
import shlex
import signal
import subprocess
import sys
import sysconfig
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from debian import Kernel

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
VNG = REPO / "build" / "vm-venv" / "bin" / "vng"
LOCK = Path("/tmp/skelgen-vm.lock")
CPUS = 2
MEMORY = "3G"
GUEST_RESULTS = "/run/results"
GUEST_HOSTFS = "/run/hostfs"


@dataclass(frozen=True)
class Outcome:
    """How a command in a VM ended: its exit status, or None when it was stopped
    after ``timeout`` seconds; and the wall time of the whole boot-run-poweroff."""

    status: int | None
    seconds: float


def kvm_usable() -> bool:
    """KVM only when the CPU has hardware virtualisation and /dev/kvm opens."""
    flags = Path("/proc/cpuinfo").read_text()
    if " vmx" not in flags and " svm" not in flags:
        return False
    try:
        os.close(os.open("/dev/kvm", os.O_RDWR))
    except OSError:
        return False
    return True


def kernel_arguments(kernel: Kernel) -> list[str]:
    """Command-line additions: the bpf LSM is off unless ``lsm=`` names it (5.10's
    default list does not)."""
    lsm = kernel.config_value("CONFIG_LSM")
    if lsm is None or "bpf" in lsm.split(","):
        return []
    return [f"lsm={lsm},bpf"]


def cached_paths() -> list[Path]:
    """Host paths the guest reads through a caching mount: the repository (with its
    .venv) and Python's standard library."""
    return [REPO, Path(sysconfig.get_paths()["stdlib"]).resolve()]


def vng_command(
    kernel: Kernel,
    command: Sequence[str],
    cache_dir: Path,
    results: Path | None = None,
    verbose: bool = False,
) -> list[str]:
    cached = ":".join(map(str, cached_paths()))
    guest = [str(HERE / "guest.sh"), str(kernel.root), str(cache_dir), cached, *command]
    cmd = [str(VNG), "--run", str(kernel.image), "--cpus", str(CPUS)]
    cmd += ["--memory", MEMORY, "--cwd", str(REPO), "--exec", shlex.join(guest)]
    cmd.append(f"--rodir={GUEST_HOSTFS}=/")  # remounted with caching by guest.sh
    if results is not None:
        cmd.append(f"--rwdir={GUEST_RESULTS}={results}")
    if not kvm_usable():
        cmd.append("--disable-kvm")
    for arg in kernel_arguments(kernel):
        cmd += ["--append", arg]
    if verbose:
        cmd.append("--verbose")
    return cmd


def _ancestors() -> set[int]:
    pids, pid = set(), os.getppid()
    while pid > 1:
        pids.add(pid)
        try:
            with open(f"/proc/{pid}/stat") as f:
                pid = int(f.read().rsplit(")", 1)[1].split()[1])
        except OSError:
            break
    return pids


def _held_by_an_ancestor(lock: IO[str]) -> bool:
    """Whether a process this one runs under holds the lock already (``flock
    /tmp/skelgen-vm.lock scripts/kernels/run ...``): waiting for it would wait forever.
    """
    inode = os.fstat(lock.fileno()).st_ino
    try:
        with open("/proc/locks") as f:
            held = [line.split() for line in f]
    except OSError:
        return False
    holders = {
        int(fields[4])
        for fields in held
        if len(fields) > 5
        and fields[1] == "FLOCK"
        and fields[3] == "WRITE"
        and fields[5].rsplit(":", 1)[-1] == str(inode)
    }
    return bool(holders & _ancestors())


@contextmanager
def vm_lock() -> Iterator[None]:
    with LOCK.open("a") as lock:
        if _held_by_an_ancestor(lock):
            yield
            return
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"kernels: waiting for {LOCK} (another VM is running)", flush=True)
            fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def run(
    kernel: Kernel,
    command: Sequence[str],
    *,
    cache_dir: Path,
    results: Path | None = None,
    log: Path | None = None,
    timeout: float | None = None,
    verbose: bool = False,
) -> Outcome:
    """Boot ``kernel``, run ``command`` in the repository, power off.  The host
    directory ``results`` is writable in the guest as ``GUEST_RESULTS``.  Output goes
    to the terminal, or to ``log`` (with the kernel's console messages) when given."""
    cmd = vng_command(kernel, command, cache_dir, results, verbose or log is not None)
    env = {**os.environ, "PATH": f"{VNG.parent}{os.pathsep}{os.environ['PATH']}"}
    with vm_lock(), open(log, "wb") if log is not None else nullcontext() as copy:
        start = time.monotonic()
        # Through a pipe: qemu reopens its stdout and stderr by path, and two opens of
        # one file would overwrite each other.
        proc = subprocess.Popen(
            cmd,
            env=env,
            stdin=subprocess.DEVNULL if log is not None else None,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # so a timeout can stop qemu with vng
        )
        assert proc.stdout is not None
        sink = copy if copy is not None else sys.stdout.buffer
        reader = threading.Thread(target=_copy, args=(proc.stdout, sink), daemon=True)
        reader.start()
        try:
            status: int | None = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _stop(proc)
            status = None
        except KeyboardInterrupt:
            _stop(proc)
            raise
        finally:
            reader.join(timeout=10)
        return Outcome(status, time.monotonic() - start)


def _copy(source: IO[bytes], sink: IO[bytes]) -> None:
    for chunk in iter(lambda: source.read1(65536), b""):  # type: ignore[attr-defined]
        sink.write(chunk)
        sink.flush()


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop vng and the qemu it started (their own process group)."""
    for sig, grace in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 10.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue
    print(f"kernels: vng (pid {proc.pid}) did not stop", file=sys.stderr)
