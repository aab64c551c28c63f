"""Maps of values without keys: queues, stacks and bloom filters."""

from __future__ import annotations

from ..errors import MapError
from ..lean.hints import TypeVar
from ..uapi.bpf import Cmd, UpdateFlag
from .map import KeylessMap

V = TypeVar("V")


class QueueMap(KeylessMap[V]):
    """``BPF_MAP_TYPE_QUEUE``: first in, first out."""

    def push(self, value: V, overwrite: bool = False) -> None:
        """Add ``value``; when full, raise — or with ``overwrite`` drop the oldest."""
        self._put(None, value, UpdateFlag.EXIST if overwrite else UpdateFlag.ANY)

    def _take(self, command: Cmd) -> V | None:
        ops = self._ops()
        taking = command == Cmd.MAP_LOOKUP_AND_DELETE_ELEM
        if ops.call(*(ops.lookup_and_delete if taking else ops.lookup)) < 0:
            error = self._failure("pop", None)
            if isinstance(error, KeyError):
                return None  # empty
            raise error
        return ops.get_value()  # type: ignore[no-any-return]

    def pop(self) -> V | None:  # type: ignore[override]
        """Remove and return the next value; None when empty."""
        return self._take(Cmd.MAP_LOOKUP_AND_DELETE_ELEM)

    def peek(self) -> V | None:
        """The next value, left in place; None when empty."""
        return self._take(Cmd.MAP_LOOKUP_ELEM)

    def drain(self) -> list[V]:
        """Pop every value there is now."""
        out = []
        while (value := self.pop()) is not None:
            out.append(value)
        return out

    def clear(self) -> None:
        self.drain()


class StackMap(QueueMap[V]):
    """``BPF_MAP_TYPE_STACK``: last in, first out."""


class BloomFilterMap(KeylessMap[V]):
    """``BPF_MAP_TYPE_BLOOM_FILTER``: ``push`` values, then ``value in bloom`` says
    "maybe" (True, possibly a false positive) or "certainly not" (False)."""

    verbs = "push and 'in'"

    def push(self, value: V) -> None:
        self._put(None, value, UpdateFlag.ANY)

    def __contains__(self, value: object) -> bool:
        ops = self._ops()
        ops.put_value(value)
        if ops.call(*ops.lookup) < 0:
            error = self._failure("peek", value)
            if isinstance(error, KeyError):
                return False
            raise error
        return True

    def clear(self) -> None:
        raise MapError(f"bloom filter {self.name}: the kernel cannot remove values")
