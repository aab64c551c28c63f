"""Records of ring and perf buffers as one numpy structured array: no Python object
per record.  Needs numpy (``pip install skelgen-runtime[numpy]``), imported when
first used.

:class:`ArrayDecoder` has :class:`~.decoder.EventDecoder`'s interface, so the ring
and perf ring readers walk headers exactly as for decoded events; a run of records
with equal headers becomes one strided view of the ring, copied at C speed.  The
dtype is the record type's (a ctypes structure or number: the generated class).
"""

from __future__ import annotations

import ctypes

from ..errors import MapError
from ..lean.hints import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy


def numpy_module() -> Any:
    """numpy, or a one-line error naming the extra that installs it."""
    try:
        import numpy
    except ImportError:
        raise MapError(
            "numpy arrays need numpy: pip install 'skelgen-runtime[numpy]'"
        ) from None
    return numpy


def dtype_of(ctype: Any, size: int, what: str) -> numpy.dtype[Any]:
    """The numpy dtype of a ctypes type (None: ``size`` raw bytes); char arrays
    become byte strings (``S16``), as C strings read best."""
    np = numpy_module()
    if ctype is None:
        return np.dtype((np.void, size))  # type: ignore[no-any-return]
    try:
        dtype = np.dtype(ctype)
    except (TypeError, ValueError, NotImplementedError) as exc:
        raise MapError(f"{what}: {ctype.__name__} has no numpy dtype ({exc})") from None
    return _strings(dtype, np)  # type: ignore[no-any-return]


def _strings(dtype: Any, np: Any) -> Any:
    """``dtype`` with every ``char[16]`` (``S1`` x 16, numpy's reading of c_char
    arrays) as ``S16``, in structures and arrays at any depth: ``char names[4][16]``
    is 4 x ``S16``."""
    if dtype.names is not None:
        fields = {
            "names": list(dtype.names),
            "formats": [_strings(dtype.fields[name][0], np) for name in dtype.names],
            "offsets": [dtype.fields[name][1] for name in dtype.names],
            "itemsize": dtype.itemsize,
        }
        return np.dtype(fields)
    if dtype.subdtype is None:
        return dtype
    base, shape = dtype.subdtype
    if base == np.dtype("S1"):
        *outer, length = shape
        string = np.dtype(f"S{length}")
        return np.dtype((string, tuple(outer))) if outer else string
    return np.dtype((_strings(base, np), shape))


class ArrayDecoder:
    """Payloads → chunks of a structured array (an :class:`EventDecoder` for arrays).

    ``one`` and ``run`` return one-record and ``count``-record arrays; a stream
    returns a list of them, which :meth:`assemble` joins."""

    def __init__(self, event_type: Any) -> None:
        if event_type is None:
            raise MapError(
                "numpy arrays need fixed-size records: set the buffer's event type"
                " (a ctypes class) first"
            )
        self.np = numpy_module()
        self.event_type = event_type
        self.size = ctypes.sizeof(event_type)
        self.dtype = dtype_of(event_type, self.size, "records")
        self.raw = self.np.dtype((self.np.void, self.size))

    def one(self, data: Any, offset: int, length: int) -> numpy.ndarray[Any, Any]:
        record = bytes(data[offset : offset + min(length, self.size)])
        # shorter than the type: zero-padded, as the C struct would read
        return self.np.frombuffer(record.ljust(self.size, b"\0"), self.dtype).copy()  # type: ignore[no-any-return]

    def run(
        self, data: Any, offset: int, count: int, stride: int, length: int
    ) -> list[numpy.ndarray[Any, Any]]:
        if length < self.size:
            return [self.one(data, offset + i * stride, length) for i in range(count)]
        # Copied as opaque records, then viewed as the type: numpy copies a strided
        # structured array field by field, opaque ones with one memcpy each.
        records = self.np.ndarray(
            (count,), self.raw, buffer=data, offset=offset, strides=(stride,)
        )
        return [records.copy().view(self.dtype)]

    def uniform_run(self, words: memoryview, first: int, step: int, count: int) -> int:
        """:func:`~.decoder.uniform_run` in numpy: one pass over the header words,
        no copy of them."""
        if count <= 1:
            return count
        np, size = self.np, words.itemsize
        heads = np.ndarray(
            (count,), np.dtype(words.format), buffer=words, offset=first * size,
            strides=(step * size,),
        )  # fmt: skip
        differ = np.flatnonzero(heads != heads[0])
        return int(differ[0]) if len(differ) else count

    def as_events(self, items: list[Any]) -> list[Any]:
        """Chunks (and decoded records) as the event objects an object-per-record
        read would have given: what a stream keeps for its next read, of either
        kind, when a read is interrupted after the buffer position moved."""
        from .decoder import EventDecoder

        objects: EventDecoder[Any] = EventDecoder(self.event_type)
        events: list[Any] = []
        for item in items:
            if isinstance(item, self.np.ndarray):
                data = item.tobytes()
                events += objects.run(data, 0, len(item), self.size, self.size)
            else:
                events.append(item)
        return events

    def assemble(self, items: list[Any]) -> numpy.ndarray[Any, Any]:
        """One array of what a stream read: chunks, and decoded records left over
        from an earlier callback or iteration (which come first)."""
        np = self.np
        chunks = [
            item if isinstance(item, np.ndarray) else self._decoded(item)
            for item in items
        ]
        if not chunks:
            return np.empty(0, self.dtype)  # type: ignore[no-any-return]
        if len(chunks) == 1:
            return chunks[0]
        return np.concatenate(chunks)  # type: ignore[no-any-return]

    def _decoded(self, event: Any) -> numpy.ndarray[Any, Any]:
        if not isinstance(event, ctypes.Structure | ctypes.Union | ctypes.Array):
            event = self.event_type(event)  # a Python number of a scalar type
        return self.np.frombuffer(bytes(event), self.dtype).copy()  # type: ignore[no-any-return]
