"""``.BTF.ext``: per-section func_info, line_info and CO-RE relocation records.

Offsets in the ELF are bytes from the start of the section; the records here keep
them in bytes too, and the loader converts to instruction indexes when it links.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

from ..errors import ObjectError
from ..lean.hints import TypeVar
from ..lean.records import dataclass, replace
from .codec import read_string

_HEADER = struct.Struct("<HBBIIIII")
_CORE_HEADER = struct.Struct("<II")


@dataclass(frozen=True)
class FuncInfo:
    insn_off: int
    type_id: int


@dataclass(frozen=True)
class LineInfo:
    insn_off: int
    file_name_off: int
    line_off: int
    line_col: int


@dataclass(frozen=True)
class CoreRelo:
    insn_off: int
    type_id: int
    access_str: str
    kind: int


@dataclass
class BtfExt:
    """Records by ELF section name."""

    func_info: dict[str, list[FuncInfo]]
    line_info: dict[str, list[LineInfo]]
    core_relos: dict[str, list[CoreRelo]]
    func_info_rec_size: int = 8
    line_info_rec_size: int = 16

    @classmethod
    def empty(cls) -> BtfExt:
        return cls({}, {}, {})


RecordT = TypeVar("RecordT", FuncInfo, LineInfo, CoreRelo)


def shift(record: RecordT, delta: int) -> RecordT:
    """The same record moved by ``delta`` bytes."""
    return replace(record, insn_off=record.insn_off + delta)


def parse_btf_ext(data: bytes, strings: bytes) -> BtfExt:
    """Parse ``.BTF.ext``; ``strings`` is the string section of the object's ``.BTF``."""
    if len(data) < _HEADER.size:
        raise ObjectError(".BTF.ext section is truncated")
    magic, _ver, _flags, hdr_len, fi_off, fi_len, li_off, li_len = _HEADER.unpack_from(
        data
    )
    if magic != 0xEB9F:
        raise ObjectError(".BTF.ext section has a bad magic number")
    if not _HEADER.size <= hdr_len <= len(data):
        raise ObjectError(f".BTF.ext header length {hdr_len} is wrong")
    core_off = core_len = 0
    if hdr_len >= _HEADER.size + _CORE_HEADER.size:
        core_off, core_len = _CORE_HEADER.unpack_from(data, _HEADER.size)

    def records(
        what: str,
        off: int,
        length: int,
        decode: Callable[[bytes, int], RecordT],
        min_size: int,
    ) -> tuple[int, dict[str, list[RecordT]]]:
        """One info block: a record size, then per section a name, count, records."""
        if not length:
            return 0, {}
        start = hdr_len + off
        end = start + length
        if end > len(data) or length < 4:
            raise ObjectError(f".BTF.ext {what} lies outside the section")
        (rec_size,) = struct.unpack_from("<I", data, start)
        if rec_size < min_size:
            raise ObjectError(
                f".BTF.ext {what} records are {rec_size} bytes, less than {min_size}"
            )
        pos = start + 4
        out: dict[str, list[RecordT]] = {}
        while pos < end:
            if pos + 8 > end:
                raise ObjectError(f".BTF.ext {what} is truncated")
            name_off, count = struct.unpack_from("<II", data, pos)
            pos += 8
            if pos + count * rec_size > end:
                raise ObjectError(f".BTF.ext {what} is truncated")
            out[read_string(strings, name_off)] = [
                decode(data, pos + i * rec_size) for i in range(count)
            ]
            pos += count * rec_size
        return rec_size, out

    def core_relo(buf: bytes, at: int) -> CoreRelo:
        insn_off, type_id, access_off, kind = struct.unpack_from("<IIII", buf, at)
        return CoreRelo(insn_off, type_id, read_string(strings, access_off), kind)

    fi_size, func_info = records(
        "func_info",
        fi_off,
        fi_len,
        lambda buf, at: FuncInfo(*struct.unpack_from("<II", buf, at)),
        8,
    )
    li_size, line_info = records(
        "line_info",
        li_off,
        li_len,
        lambda buf, at: LineInfo(*struct.unpack_from("<IIII", buf, at)),
        16,
    )
    _, core_relos = records("CO-RE relocations", core_off, core_len, core_relo, 16)
    return BtfExt(func_info, line_info, core_relos, fi_size or 8, li_size or 16)
