"""What the kernel says about a map: ``BPF_OBJ_GET_INFO_BY_FD``, and the integer key
and value types of the BTF the map was created with (for maps opened by pin or id)."""

from __future__ import annotations

import ctypes
import os

from ..btf import Btf
from ..cdata.codec import btf_scalar_ctype
from ..errors import BPFError, MapError
from ..lean.hints import Any
from ..lean.records import dataclass
from ..sys import attr as a, commands as cmd
from ..uapi.bpf import Cmd, MapType


@dataclass(frozen=True)
class MapInfo:
    """What the kernel says about a map (``BPF_OBJ_GET_INFO_BY_FD``)."""

    type: MapType | int
    id: int
    name: str
    key_size: int
    value_size: int
    max_entries: int
    flags: int
    map_extra: int
    btf_id: int
    btf_key_type_id: int
    btf_value_type_id: int


_KINDS = {"anon_inode:bpf-prog": "a program", "anon_inode:bpf-link": "a link"}


def open_pinned_map(path: str) -> int:
    """The fd of the map pinned at ``path`` (OSError as the kernel answers); a
    program or link pinned there is a MapError naming what it is, not garbage read
    from its info as if it were a map's."""
    fd = cmd.obj_get(path)
    try:
        target = os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        target = ""
    if target != "anon_inode:bpf-map":
        os.close(fd)
        raise MapError(
            f"{path} holds {_KINDS.get(target, 'a pinned object')}, not a map"
        )
    return fd


def read_map_info(fd: int) -> MapInfo:
    """The kernel's description of the map behind ``fd`` (raises OSError)."""
    info = a.BpfMapInfo()
    cmd.obj_info(fd, info)
    try:
        map_type: MapType | int = MapType(info.type)
    except ValueError:
        map_type = int(info.type)
    return MapInfo(
        type=map_type,
        id=info.id,
        name=info.name.decode("ascii", "replace"),
        key_size=info.key_size,
        value_size=info.value_size,
        max_entries=info.max_entries,
        flags=info.map_flags,
        map_extra=info.map_extra,
        btf_id=info.btf_id,
        btf_key_type_id=info.btf_key_type_id,
        btf_value_type_id=info.btf_value_type_id,
    )


def btf_scalar_types(info: MapInfo) -> tuple[Any, Any]:
    """The ctypes of integer keys and values, from the BTF the map was created with
    (None where there is no BTF or the type is not an integer)."""
    if not info.btf_id:
        return None, None
    try:
        fd = cmd.fd_by_id(Cmd.BTF_GET_FD_BY_ID, info.btf_id)
    except OSError:
        return None, None
    try:
        sizing = a.BpfBtfInfo()
        cmd.obj_info(fd, sizing)
        raw = ctypes.create_string_buffer(sizing.btf_size)
        cmd.obj_info(fd, a.BpfBtfInfo(btf=ctypes.addressof(raw), btf_size=len(raw)))
        btf = Btf.from_bytes(raw.raw)
    except (OSError, BPFError):
        return None, None
    finally:
        os.close(fd)
    return (
        btf_scalar_ctype(btf, info.btf_key_type_id),
        btf_scalar_ctype(btf, info.btf_value_type_id),
    )
