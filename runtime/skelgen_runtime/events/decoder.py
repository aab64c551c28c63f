"""Record payloads of ring and perf buffers → event objects.  Pure.

An event is an instance of ``event_type`` (a ctypes structure: the generated event
class), a Python number when that type is a ctypes number, or ``bytes`` when no type is
given or the type is a char array.  A record shorter than the type is zero-padded, as the C struct would read.

Speed: a run of equal records is decoded by one ``map`` over their offsets, with the
garbage collector paused (:func:`~.map_codec.collector_paused`).
"""

from __future__ import annotations

import ctypes
import struct
from itertools import repeat

from ..cdata.codec import collector_paused, is_scalar
from ..cdata.types import is_char_array
from ..lean.hints import Any, Generic, TypeVar

E = TypeVar("E")


class EventDecoder(Generic[E]):
    """Decodes payloads into ``event_type`` instances (None: bytes)."""

    def __init__(self, event_type: Any) -> None:
        self.event_type = event_type
        self.size = ctypes.sizeof(event_type) if event_type is not None else 0
        self._number = (
            struct.Struct("@" + event_type._type_) if is_scalar(event_type) else None
        )
        # A char array type (typedef char msg_t[64]): bytes, all of the type's.
        self._chars = is_char_array(event_type)

    def one(self, data: Any, offset: int, length: int) -> E:
        """The event whose ``length`` payload bytes start at ``offset`` of ``data``
        (any buffer: bytes, memoryview, mmap)."""
        if self.event_type is None:
            return bytes(data[offset : offset + length])  # type: ignore[return-value]
        if self._chars:
            record = bytes(data[offset : offset + min(length, self.size)])
            return record.ljust(self.size, b"\0")  # type: ignore[return-value]
        if length < self.size:
            padded = bytes(data[offset : offset + length]).ljust(self.size, b"\0")
            return self.one(padded, 0, self.size)
        if self._number is not None:
            return self._number.unpack_from(data, offset)[0]  # type: ignore[no-any-return]
        return self.event_type.from_buffer_copy(data, offset)  # type: ignore[no-any-return]

    def run(
        self, data: Any, offset: int, count: int, stride: int, length: int
    ) -> list[E]:
        """``count`` events of ``length`` bytes at ``offset``, ``offset + stride``..."""
        offsets = range(offset, offset + count * stride, stride)
        if self.event_type is None:
            return [bytes(data[o : o + length]) for o in offsets]  # type: ignore[misc]
        if length < self.size or self._number is not None or self._chars:
            return [self.one(data, o, length) for o in offsets]
        with collector_paused(count):
            return list(map(self.event_type.from_buffer_copy, repeat(data), offsets))

    @staticmethod
    def uniform_run(words: memoryview, first: int, step: int, count: int) -> int:
        """:func:`uniform_run`: what the readers ask the decoder (an array decoder
        answers with numpy)."""
        return uniform_run(words, first, step, count)

    @staticmethod
    def as_events(items: list[E]) -> list[E]:
        """What this decoder returned, as event objects: a stream keeps them so for
        its next read, of whichever kind (an array decoder splits its chunks)."""
        return items


def uniform_run(words: memoryview, first: int, step: int, count: int) -> int:
    """How many of the ``count`` words at ``first``, ``first + step``... equal the
    first one (at least 1): the length of a run of records with identical headers.

    ``words`` is a memoryview cast to the header word's format; the comparison is
    done on bytes, in C, whatever the run's length.
    """
    if count <= 1:
        return count
    got = words[first : first + count * step : step].tobytes()
    unit = got[: words.itemsize]
    if got == unit * count:
        return count
    low, high = 1, count  # words[:low] all match, words[:high] do not
    while high - low > 1:
        mid = (low + high) // 2
        size = mid * words.itemsize
        if got[:size] == unit * mid:
            low = mid
        else:
            high = mid
    return low
