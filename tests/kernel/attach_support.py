"""Helpers of the attach tests: globals by name, network namespaces, cgroups.
Everything made here is removed again by its context manager."""

from __future__ import annotations

import ctypes
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from skelgen_runtime import BPFObject

T = TypeVar("T")
CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


# -- globals of an object ------------------------------------------------------------------


def _variable(obj: BPFObject, name: str) -> tuple[str, int, int]:
    for section, datasec in obj.spec.datasecs.items():
        for var in datasec.variables:
            if var.name == name:
                return section, var.offset, var.size
    raise KeyError(name)


def read_global(obj: BPFObject, name: str, signed: bool = False) -> int:
    """An integer global, read through the section's memory (kernel memory once loaded)."""
    section, offset, size = _variable(obj, name)
    raw = obj.datasec(section).read()[offset : offset + size]
    return int.from_bytes(raw, "little", signed=signed)


def write_global(obj: BPFObject, name: str, value: int) -> None:
    section, offset, size = _variable(obj, name)
    memory = obj.datasec(section)
    data = bytearray(memory.read())
    data[offset : offset + size] = value.to_bytes(size, "little", signed=value < 0)
    memory.write(bytes(data))


@contextmanager
def loaded(
    path: Path, *, without: Iterable[str] = (), **values: int
) -> Iterator[BPFObject]:
    """``path`` opened, its integer globals ``values`` set, loaded without the
    programs named in ``without``; destroyed on exit."""
    with BPFObject.open(path) as obj:
        for name in without:
            obj.programs[name].autoload = False
        for name, value in values.items():
            write_global(obj, name, value)
        obj.load()
        yield obj


def wait_for(condition: Callable[[], bool], timeout: float = 2.0) -> bool:
    """Poll ``condition`` until it holds (events reach BPF programs asynchronously)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


# -- network namespaces ---------------------------------------------------------------------


def run(*cmd: str) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: {proc.stderr.strip()}")


@dataclass(frozen=True)
class NetNs:
    name: str

    @property
    def path(self) -> str:
        return f"/run/netns/{self.name}"

    def call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn`` in a fresh thread that has entered this namespace: sockets it
        opens and hooks it attaches by interface belong to the namespace."""
        result: list[T] = []
        error: list[BaseException] = []

        def body() -> None:
            try:
                fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
                try:
                    if _libc.setns(fd, CLONE_NEWNET) != 0:
                        raise OSError(ctypes.get_errno(), "setns")
                finally:
                    os.close(fd)
                result.append(fn(*args))
            except BaseException as exc:  # re-raised in the caller
                error.append(exc)

        thread = threading.Thread(target=body)
        thread.start()
        thread.join()
        if error:
            raise error[0]
        return result[0]


@contextmanager
def netns(suffix: str = "n") -> Iterator[NetNs]:
    """A network namespace of the test's own with loopback up; deleted on exit."""
    ns = NetNs(f"skg{os.getpid()}{suffix}")
    try:
        run("ip", "netns", "add", ns.name)
        run("ip", "-n", ns.name, "link", "set", "lo", "up")
        yield ns
    finally:
        subprocess.run(
            ["ip", "netns", "del", ns.name], capture_output=True, check=False
        )


@dataclass(frozen=True)
class VethPair:
    """``va`` (10.248.0.1) in namespace ``a``, its peer ``vb`` (10.248.0.2) in ``b``."""

    a: NetNs
    b: NetNs
    addr_a: str = "10.248.0.1"
    addr_b: str = "10.248.0.2"


@contextmanager
def veth_pair() -> Iterator[VethPair]:
    """Two namespaces joined by a veth pair; both are deleted on exit."""
    tag = f"skg{os.getpid()}"
    pair = VethPair(NetNs(f"{tag}a"), NetNs(f"{tag}b"))
    try:
        run("ip", "netns", "add", pair.a.name)
        run("ip", "netns", "add", pair.b.name)
        run(
            "ip",
            "link",
            "add",
            "va",
            "netns",
            pair.a.name,
            "type",
            "veth",
            "peer",
            "name",
            "vb",
            "netns",
            pair.b.name,
        )
        for ns, dev, addr in ((pair.a, "va", pair.addr_a), (pair.b, "vb", pair.addr_b)):
            run("ip", "-n", ns.name, "addr", "add", f"{addr}/24", "dev", dev)
            run("ip", "-n", ns.name, "link", "set", dev, "up")
            run("ip", "-n", ns.name, "link", "set", "lo", "up")
        yield pair
    finally:
        for ns in (pair.a, pair.b):
            subprocess.run(
                ["ip", "netns", "del", ns.name], capture_output=True, check=False
            )


def udp_socket(bind: tuple[str, int] | None = None) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    if bind is not None:
        sock.bind(bind)
    return sock


def receive_all(sock: socket.socket, quiet: float = 0.2) -> list[bytes]:
    """Every datagram that arrives until none has come for ``quiet`` seconds."""
    sock.settimeout(quiet)
    out = []
    while True:
        try:
            out.append(sock.recv(2048))
        except TimeoutError:
            return out


# -- cgroups and binaries --------------------------------------------------------------------


def cgroup2_root() -> str | None:
    """Where cgroup v2 is mounted, from /proc/mounts (``/sys/fs/cgroup/unified`` on
    hybrid systems)."""
    with open("/proc/mounts") as f:
        for line in f:
            fields = line.split()
            if len(fields) > 2 and fields[2] == "cgroup2":
                return fields[1]
    return None


@contextmanager
def temporary_cgroup(root: str) -> Iterator[str]:
    path = os.path.join(root, f"skelgen-test-{os.getpid()}")
    os.mkdir(path)
    try:
        yield path
    finally:
        os.rmdir(path)


def run_in_cgroup(cgroup: str, code: str) -> subprocess.CompletedProcess[str]:
    """Run Python ``code`` in a child process that joins ``cgroup`` before it starts."""

    def join() -> None:
        with open(os.path.join(cgroup, "cgroup.procs"), "w") as f:
            f.write(str(os.getpid()))

    return subprocess.run(
        [sys.executable, "-S", "-c", code],
        preexec_fn=join,
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )


# -- ringbuf_events.bpf.c ------------------------------------------------------------------

EMIT_PER_RUN = 1024  # its MAX_EMIT: the loop is bounded so that 5.10 verifies it


def produce(skel: Any, count: int) -> None:
    """``count`` more numbered events from ringbuf_events.bpf.c's ``produce``, in
    runs of at most EMIT_PER_RUN."""
    for first in range(0, count, EMIT_PER_RUN):
        skel.bss.emit_count = min(count - first, EMIT_PER_RUN)
        skel.progs.produce.test_run()
