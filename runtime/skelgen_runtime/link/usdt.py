"""USDT probes, compatible with libbpf's ``usdt.bpf.h``: one uprobe per probe site,
each site's argument spec in the object's ``__bpf_usdt_specs`` map.

The BPF side finds a site's spec by its BPF cookie (the spec id), or, on kernels
without ``bpf_get_attach_cookie()``, by the probed instruction's address in
``__bpf_usdt_ip_to_spec_id``; ``LINUX_HAS_BPF_COOKIE`` tells it which, and this
module follows the same probe.  Sites sharing an argument string share a spec
within one attachment (libbpf's rule); spec ids return to the object when the
attachment is detached.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from contextlib import ExitStack

from ..errors import AttachError, MapError
from ..features import programs as program_features
from ..kernel import probes
from ..uapi.bpf import UpdateFlag
from ..usdt.args import parse_args
from ..usdt.sites import (
    Site,
    UsdtBinary,
    absolute_address,
    mapped_segments,
    read_binary,
)
from . import binaries
from .attaching import AttachableProgram, attach_error, attaching
from .link import Link
from .perf_event import attach_probe_event
from .usdt_manager import UsdtManager, UsdtProgram


class UsdtLink(Link):
    """One USDT attachment: the uprobes of all its sites, released together."""

    def __init__(
        self,
        program: str,
        target: str,
        uprobes: list[Link],
        release: list[Callable[[], None]],
    ) -> None:
        super().__init__(None, program, "usdt", target, release=release)
        self.uprobes = tuple(uprobes)


def maps_path(pid: int, path: str) -> str:
    """How ``/proc/PID/maps`` names ``path``: its real path, inside the process's root
    when ``path`` went through ``/proc/PID/root``."""
    root = f"/proc/{pid}/root/"
    if path.startswith(root):
        return "/" + path[len(root) :]
    return os.path.realpath(path)


def _address_args(usdt: UsdtBinary, sites: list[Site], pid: int) -> dict[int, str]:
    """The address each site's nop runs at (in process ``pid`` for a library or PIE)
    → the site's argument string."""
    if not usdt.shared:
        return {site.address: site.note.args for site in sites}
    if pid < 0:
        raise AttachError(
            f"{usdt.path} is a shared library or PIE and this kernel has no BPF "
            "cookies: give the pid of a process that maps it",
            errno=errno.EOPNOTSUPP,
        )
    with open(f"/proc/{pid}/maps") as f:
        segments = mapped_segments(f.read(), maps_path(pid, usdt.path))
    out = {}
    for site in sites:
        address = absolute_address(segments, site.offset)
        if address is None:
            raise AttachError(
                f"process {pid} does not map {usdt.path} at file offset "
                f"{site.offset:#x}",
                errno=errno.ESRCH,
            )
        out[address] = site.note.args
    return out


def attach_usdt(
    program: UsdtProgram,
    binary: str,
    provider: str,
    name: str,
    pid: int = -1,
    cookie: int = 0,
    legacy: bool = False,
) -> UsdtLink:
    """Probe every site of USDT ``provider:name`` in ``binary`` (a path, a library name
    or a program on $PATH); ``pid`` -1 means every process, 0 this one.  ``cookie`` is
    what ``bpf_usdt_cookie()`` returns; ``legacy`` makes the uprobes through tracefs."""
    target = f"{binary}:{provider}:{name}"
    manager = program.usdt_manager
    pid = os.getpid() if pid == 0 else max(pid, -1)
    with attaching(program, "usdt", target):
        path = binaries.find_binary(binary)
        with open(path, "rb") as f:
            usdt = read_binary(f, path)
        sites = usdt.sites(provider, name)
        # Parse and lay out every spec before anything changes in the kernel.
        values = {
            site.note.args: manager.layout.encode(parse_args(site.note.args), cookie)
            for site in sites
        }
        use_cookie = program_features.has_bpf_cookie()
        # Without cookies the BPF side finds a site's spec by its address.
        address_args = {} if use_cookie else _address_args(usdt, sites, pid)
    undo = ExitStack()  # what detaching releases, in reverse order of making
    try:
        ids = manager.allocate(len(values))
        undo.callback(manager.release, ids)
        spec_ids = dict(zip(values, ids, strict=True))
        with attaching(program, "usdt", target):
            _fill_maps(manager, values, spec_ids, address_args, undo)
        uprobes = []
        for site in sites:
            where = f"{target} at {path}:{site.offset:#x}"
            with attaching(program, "usdt", where):
                event = probes.open_uprobe(
                    path, site.offset, False, pid, legacy, site.semaphore_offset
                )
            spec_id = spec_ids[site.note.args]
            uprobe = attach_probe_event(
                program, event, "usdt", where, spec_id if use_cookie else 0
            )
            undo.callback(uprobe.detach)
            uprobes.append(uprobe)
    except BaseException:
        undo.close()
        raise
    return UsdtLink(program.name, target, uprobes, [undo.close])


def _fill_maps(
    manager: UsdtManager,
    values: dict[str, bytes],
    spec_ids: dict[str, int],
    address_args: dict[int, str],
    undo: ExitStack,
) -> None:
    """Write each spec, and (without BPF cookies) each site's address → spec id."""
    try:
        for args, spec_id in spec_ids.items():
            manager.specs[spec_id] = values[args]
        for address, args in address_args.items():
            try:
                manager.ip_to_spec_id.update(
                    address, spec_ids[args], UpdateFlag.NOEXIST
                )
            except MapError as exc:
                if exc.errno != errno.EEXIST:
                    raise
                raise AttachError(
                    f"address {address:#x} is already probed by another USDT "
                    "attachment of this object",
                    errno=errno.EEXIST,
                ) from None
            undo.callback(manager.ip_to_spec_id.delete, address)
    except MapError as exc:
        raise AttachError(str(exc), errno=exc.errno or 0) from None


def parse_usdt_target(program: AttachableProgram, target: str) -> tuple[str, str, str]:
    """``BINARY:PROVIDER:NAME`` of a ``usdt/...`` section."""
    parts = target.split(":")
    if len(parts) != 3 or not all(parts):
        raise attach_error(
            program,
            "usdt",
            target,
            f"section {program.section!r} must be usdt/<binary>:<provider>:<name>",
            errno.EINVAL,
        )
    binary, provider, name = parts
    return binary, provider, name
