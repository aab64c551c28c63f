"""Stack trace maps (``STACK_TRACE``): stack ids to instruction pointers."""

from __future__ import annotations

import struct

from ..lean.hints import TypeVar
from .map import Map

K = TypeVar("K")
V = TypeVar("V")


class StackTraceMap(Map[K, V]):
    """``STACK_TRACE``: stack ids (from ``bpf_get_stackid``) → instruction pointers."""

    def walk(self, stack_id: int) -> list[int]:
        """The addresses of one stack, innermost first (bcc's ``walk``)."""
        ops = self._ops()
        ops.put_key(stack_id)
        if ops.call(*ops.lookup) < 0:
            raise self._failure("lookup", stack_id)
        addresses = []
        for (ip,) in struct.iter_unpack("<Q", bytes(ops.value)):
            if ip == 0:
                break
            addresses.append(ip)
        return addresses
