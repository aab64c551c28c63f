"""struct_ops maps: a table of callbacks (``struct tcp_congestion_ops``...) that the
kernel calls, its function members implemented by BPF programs.

Before load, :attr:`StructOpsMap.data` is the table in the object's layout of its
struct, writable (the data members, such as a congestion-control algorithm's name).
Loading creates the map with the kernel's ``bpf_struct_ops_<name>`` value type and
builds the value the kernel wants (:mod:`..load.struct_ops`); attaching writes it,
which registers the table (:mod:`..link.struct_ops`).
"""

from __future__ import annotations

from ..errors import MapError
from ..lean.hints import Any, Protocol, TypeVar
from ..obj.spec import MapSpec, StructOpsSpec
from .map import Map


class _Named(Protocol):
    @property
    def name(self) -> str: ...


K = TypeVar("K")
V = TypeVar("V")


class StructOpsMap(Map[K, V]):
    """``BPF_MAP_TYPE_STRUCT_OPS``: registered by attaching it, unregistered when
    its link is detached (the object's ``attach()``/``destroy()`` do both).  Its one
    value (key 0) reads as the kernel's ``bpf_struct_ops_<name>``, in bytes."""

    def __init__(
        self, spec: MapSpec, key_type: Any = None, value_type: Any = None
    ) -> None:
        super().__init__(spec, key_type, value_type)
        # The kernel's value with the programs' fds in place, built at load.
        self.kernel_value: bytes | None = None

    @property
    def struct_ops(self) -> StructOpsSpec:
        if self.spec.struct_ops is None:  # a struct_ops map opened from an fd or pin
            raise MapError(f"map {self.name} was not declared by an object file")
        return self.spec.struct_ops

    @property
    def data(self) -> bytearray:
        """The table's bytes in the object's layout of its struct; changes made
        before load are what the kernel gets."""
        return self.struct_ops.data

    @property
    def programs(self) -> dict[str, str]:
        """Which program implements each function member: member → program name."""
        return dict(self.struct_ops.programs)

    def set_program(self, member: str, program: str | _Named | None) -> None:
        """Have ``program`` (a Program or its name) implement ``member`` instead,
        or with None leave the member unset; before load only (bpftool's skeleton
        lets ``skel->struct_ops.<map>-><member>`` be assigned the same way)."""
        self._before_load(f"member {member}")
        if program is None:
            self.struct_ops.programs.pop(member, None)
        else:
            name = program if isinstance(program, str) else program.name
            self.struct_ops.programs[member] = name
