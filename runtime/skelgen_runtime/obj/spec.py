"""What an object file asks for, before any syscall: the ``ObjectSpec`` and its parts.

The reader (:mod:`.elf`) builds these from an ELF file; the loader turns them into
kernel objects.  Everything here is plain data that can be changed between open and
load (autoload, map sizes, the initial bytes of global data).
"""

from __future__ import annotations

from ..btf import Btf, BtfExt
from ..btf.ext import CoreRelo, FuncInfo, LineInfo
from ..btf.types import VarLinkage
from ..lean.enums import Enum
from ..lean.records import dataclass, field
from ..uapi.bpf import MapType
from .sections import ProgramSection

INSN_SIZE = 8


class RelocKind(Enum):
    """What an ELF relocation against an instruction asks the loader to do."""

    CALL = "call"  # bpf-to-bpf call into .text
    SUBPROG_ADDR = "subprog_addr"  # ld_imm64 of a function's address (callbacks)
    MAP_FD = "map_fd"  # ld_imm64 of a map from .maps
    DATA = "data"  # ld_imm64 of an address inside a global-data section
    EXTERN_VAR = "extern_var"  # ld_imm64 of a __kconfig / __ksym variable
    EXTERN_CALL = "extern_call"  # call of a __ksym function (kfunc)


@dataclass(frozen=True)
class Relocation:
    insn: int  # instruction index inside the function
    kind: RelocKind
    symbol: str
    section: str  # section the symbol lives in ("" for externs)
    offset: int  # symbol value, in bytes, inside that section


@dataclass
class FunctionSpec:
    """A contiguous run of instructions: a program or a subprogram."""

    name: str
    section: str
    offset: int  # byte offset inside the section
    insns: bytes
    relocations: list[Relocation] = field(default_factory=list)
    func_info: list[FuncInfo] = field(default_factory=list)  # insn_off relative, bytes
    line_info: list[LineInfo] = field(default_factory=list)
    core_relos: list[CoreRelo] = field(default_factory=list)

    @property
    def insn_count(self) -> int:
        return len(self.insns) // INSN_SIZE


@dataclass
class ProgramSpec:
    name: str
    section: str
    kind: ProgramSection | None  # None: a section libbpf does not know
    function: FunctionSpec
    autoload: bool = True
    attach_target: str | None = (
        None  # overrides the section's target (set_attach_target)
    )


@dataclass
class VariableSpec:
    """A global variable inside a datasec."""

    name: str
    offset: int
    size: int
    type_id: int
    linkage: VarLinkage


@dataclass
class DatasecSpec:
    """A global-data section (``.bss``, ``.data``, ``.rodata``, ``.data.*``...)."""

    section: str
    size: int
    data: bytearray  # initial bytes; zeros after them up to size (.bss has none)
    btf_id: int  # 0 when the section has no DATASEC (e.g. .rodata.str1.1)
    variables: list[VariableSpec]

    @property
    def readonly(self) -> bool:
        return self.section.startswith(".rodata") or self.section == ".kconfig"

    @property
    def mmapable(self) -> bool:
        """libbpf maps a section into user space when a non-static variable lives in it."""
        return any(v.linkage != VarLinkage.STATIC for v in self.variables)

    @property
    def skeleton_name(self) -> str:
        """bpftool's attribute name: ``.data.foo`` → ``data_foo``."""
        return "".join(c if c.isalnum() else "_" for c in self.section.lstrip("."))


@dataclass
class StructOpsSpec:
    """A struct_ops map's table of callbacks in the object's own layout of its
    struct (see :mod:`.struct_ops`)."""

    type_name: str  # the kernel's name of the struct (a ___flavour suffix dropped)
    type_id: int  # the struct in the object's BTF
    data: bytearray  # the variable's bytes: writable until load
    link: bool  # .struct_ops.link: registered through a BPF link
    programs: dict[str, str] = field(default_factory=dict)  # member → program


@dataclass
class MapSpec:
    name: str
    type: MapType
    key_size: int
    value_size: int
    max_entries: int
    flags: int = 0
    numa_node: int = 0
    map_extra: int = 0
    pinning: int = 0
    btf_key_type_id: int = 0
    btf_value_type_id: int = 0
    inner: MapSpec | None = None
    datasec: DatasecSpec | None = None  # set for global-data maps
    section_offset: int = (
        0  # where the definition sits in .maps (relocations point there)
    )
    initial_slots: dict[int, str] = field(
        default_factory=dict
    )  # prog/map names by index
    struct_ops: StructOpsSpec | None = None  # set for struct_ops maps
    autocreate: bool = True  # False: the loader leaves the map out


@dataclass
class ObjectSpec:
    name: str
    btf: Btf
    btf_ext: BtfExt
    license: str
    kern_version: int
    maps: dict[str, MapSpec]
    programs: dict[str, ProgramSpec]
    subprograms: dict[int, FunctionSpec]  # .text functions by byte offset
    datasecs: dict[str, DatasecSpec]  # by section name
    externs: dict[str, ExternSpec] = field(default_factory=dict)  # by name


class ExternKind(Enum):
    """Where an extern's value comes from: the DATASEC that declares it."""

    KCONFIG = ".kconfig"  # kernel config and libbpf's LINUX_* values
    KSYM = ".ksyms"  # kernel symbols: variables and functions (kfuncs)


class KconfigType(Enum):
    """What a ``__kconfig`` extern's C type lets a config value be (libbpf's)."""

    BOOL = "bool"  # y/n
    TRISTATE = "tristate"  # enum libbpf_tristate: y/m/n
    CHAR = "char"  # y/n/m as a character, or a number
    INT = "int"  # a number (signed or not)
    CHAR_ARRAY = "char_array"  # a quoted string


@dataclass
class ExternSpec:
    """An ``extern`` the object leaves to the loader (``__kconfig`` or ``__ksym``)."""

    name: str
    kind: ExternKind
    btf_id: int  # its VAR (or FUNC, for a kfunc) in the object's BTF
    weak: bool  # unresolved means zero instead of an error
    # the VAR's type (for ksyms: modifiers and typedefs skipped, 0 when untyped),
    # or the FUNC's prototype
    type_id: int
    is_func: bool = False
    # .kconfig layout, as libbpf computes it: place in the .kconfig map
    offset: int = 0
    size: int = 0
    align: int = 0
    kconfig_type: KconfigType | None = None
    signed: bool = False
