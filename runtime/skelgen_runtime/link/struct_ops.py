"""Registering a struct_ops map with the kernel, and unregistering it.

Writing the map's one value (key 0) hands the table to the kernel.  A map of
``.struct_ops`` is registered by that write and unregistered by deleting the value;
one of ``.struct_ops.link`` (``BPF_F_LINK``) is registered by a BPF link made on the
map and unregistered when the link is closed, as libbpf's
``bpf_map__attach_struct_ops`` does.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno

from ..errors import AttachError, describe_errno, for_errno, privilege_hint
from ..lean.hints import Any
from ..maps.struct_ops import StructOpsMap
from ..sys import commands as cmd
from ..uapi.bpf import AttachType
from .link import Link

_HINTS = {
    errno.EEXIST: " (a table of that name is registered already)",
    errno.EBUSY: (
        " (a .struct_ops map is registered once in its life; open the object"
        " again, or declare it in .struct_ops.link to attach it again)"
    ),
}


def attach_struct_ops(m: StructOpsMap[Any, Any]) -> Link:
    """Register ``m``; the link's detach() unregisters it."""
    value = m.kernel_value
    if value is None:
        raise AttachError(f"struct_ops {m.name}: load the object before attaching")
    what = f"register struct_ops {m.name} ({m.struct_ops.type_name})"
    key = ctypes.c_uint32(0)
    buf = ctypes.create_string_buffer(value, len(value))
    try:
        cmd.map_update(m.fd, ctypes.addressof(key), ctypes.addressof(buf))
    except OSError as exc:
        # A link map keeps its value once written (EBUSY): as libbpf, make a new
        # link on it.  A plain one registers once in its life.
        if not (m.struct_ops.link and exc.errno == errno.EBUSY):
            raise _failure(what, exc) from None
    if not m.struct_ops.link:
        return Link(
            None,
            m.name,
            "struct_ops",
            m.struct_ops.type_name,
            release=[lambda: _unregister(m)],
        )
    try:
        fd = cmd.link_create(m.fd, 0, AttachType.STRUCT_OPS)
    except OSError as exc:
        raise _failure(what, exc) from None
    return Link(fd, m.name, "struct_ops", m.struct_ops.type_name)


def _unregister(m: StructOpsMap[Any, Any]) -> None:
    key = ctypes.c_uint32(0)
    # The map may be closed already (destroy() after the map's fd went): the
    # kernel then unregisters as the map is freed.
    if m.loaded:
        with contextlib.suppress(OSError):
            cmd.map_delete(m.fd, ctypes.addressof(key))


def _failure(what: str, exc: OSError) -> AttachError:
    code = exc.errno or 0
    return for_errno(AttachError, code)(
        f"{what}: {describe_errno(code)}{_HINTS.get(code, '')}{privilege_hint(code)}",
        errno=code,
    )
