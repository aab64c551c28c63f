"""Read a BPF ELF object into an :class:`~.spec.ObjectSpec`.  Pure: no syscalls.

Follows libbpf's reading of an object: programs are the functions of executable
sections, subprograms the functions of ``.text``, maps the variables of ``.maps``
(BTF-defined), global data the ``.data``/``.bss``/``.rodata`` sections and their
``.data.*``/``.rodata.*`` relatives, each relocation classified by what it touches.
"""

from __future__ import annotations

import io
import os
import struct
from collections.abc import Iterator
from pathlib import Path

from elftools.common.exceptions import ELFError, ELFParseError
from elftools.elf.elffile import ELFFile
from elftools.elf.sections import SymbolTableSection

from ..btf import Btf, BtfExt, parse_btf_ext, types as bt
from ..btf.ext import shift
from ..errors import ObjectError
from ..lean.hints import Any
from ..lean.records import dataclass
from ..uapi.bpf import PSEUDO_CALL, MapType
from .elf_layout import check_layout
from .externs import collect_externs
from .sections import find_section_def
from .spec import (
    INSN_SIZE,
    DatasecSpec,
    FunctionSpec,
    MapSpec,
    ObjectSpec,
    ProgramSpec,
    Relocation,
    RelocKind,
    VariableSpec,
)
from .struct_ops import is_struct_ops_section, struct_ops_maps

SHF_ALLOC = 0x2
SHF_EXECINSTR = 0x4
_ELF64_REL = struct.Struct("<QQ")
_ELF64_SYM = struct.Struct("<IBBHQQ")
_STT = {
    0: "STT_NOTYPE",
    1: "STT_OBJECT",
    2: "STT_FUNC",
    3: "STT_SECTION",
    4: "STT_FILE",
}
_STB = {0: "STB_LOCAL", 1: "STB_GLOBAL", 2: "STB_WEAK"}
STV_INTERNAL = 1
STV_HIDDEN = 2
_OPCODE_CALL = 0x85
_OPCODE_LD_IMM64 = 0x18
_POINTER_SIZE = 8  # of the BPF target: one .values slot
# What pyelftools raises on a truncated or corrupt file (a huge offset: OverflowError),
# for readers of host binaries; objects have their layout checked first.
CORRUPT_ELF_ERRORS = (
    ELFError,
    ELFParseError,
    struct.error,
    ValueError,
    IndexError,
    KeyError,
    TypeError,
    OverflowError,
)
# The largest value of an array map (what a global-data section becomes) that the
# kernel accepts: array_map_alloc_check() refuses more than INT_MAX.
MAX_SECTION_MAP_SIZE = (1 << 31) - 1


def object_name_from_path(path: str | os.PathLike[str]) -> str:
    """bpftool's object name: the file name without ``.o``, non-identifier chars → ``_``."""
    base = Path(path).name
    if base.endswith(".o"):
        base = base[:-2]
    return "".join(c if c.isalnum() or c == "_" else "_" for c in base) or "obj"


def btf_bytes(data: bytes) -> bytes:
    """The raw BTF of a BTF file's bytes: the bytes themselves, or, for an ELF file
    (a ``vmlinux`` image, an object), its ``.BTF`` section."""
    if data[:4] != b"\x7fELF":
        return data
    try:
        section = ELFFile(io.BytesIO(data)).get_section_by_name(".BTF")
        if section is None:
            raise ObjectError("the ELF file has no .BTF section")
        return bytes(section.data())
    except CORRUPT_ELF_ERRORS as exc:
        raise ObjectError(f"not a usable ELF file ({exc})") from None


def read_object_bytes(path: str | os.PathLike[str]) -> bytes:
    """The bytes of an object file; an unreadable file is an :class:`ObjectError`."""
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise ObjectError(f"{os.fspath(path)}: {exc.strerror or exc}") from None


def read_object_file(path: str | Path, name: str | None = None) -> ObjectSpec:
    data = read_object_bytes(path)
    return read_object(data, name or object_name_from_path(path), origin=str(path))


def read_object(data: bytes, name: str, origin: str = "<bytes>") -> ObjectSpec:
    """Parse an object held in memory; any malformation raises :class:`ObjectError`."""
    try:
        check_layout(data)
        return _Reader(data, name, origin).read()
    except ObjectError as exc:
        message = str(exc)
        if message.startswith(origin):
            raise
        raise ObjectError(f"{origin}: {message}") from None
    except (ELFError, ELFParseError) as exc:  # pyelftools, on what check_layout allows
        raise ObjectError(f"{origin}: corrupt ELF file ({exc})") from None


@dataclass
class _Symbol:
    name: str
    value: int
    size: int
    type: str  # STT_*
    bind: str  # STB_*
    shndx: int | None  # None: undefined (an extern)
    visibility: int  # STV_*


def _is_data_section(name: str) -> bool:
    return name in (".data", ".bss", ".rodata") or name.startswith(
        (".data.", ".rodata.")
    )


class _Reader:
    def __init__(self, data: bytes, name: str, origin: str) -> None:
        self.data = data
        self.elf = ELFFile(io.BytesIO(data))
        self.name = name
        self.origin = origin

    def read(self) -> ObjectSpec:
        elf = self.elf
        if elf["e_machine"] != "EM_BPF":
            raise ObjectError(f"not a BPF object (machine {elf['e_machine']})")
        if not elf.little_endian:
            raise ObjectError("big-endian BPF objects are not supported on this host")
        self.sections = list(elf.iter_sections())
        self.index = {s.name: i for i, s in enumerate(self.sections)}
        if "maps" in self.index:  # libbpf refuses the object, used or not
            raise ObjectError(
                "legacy map definitions in section 'maps' are not supported (nor by"
                ' libbpf 1.0+): declare the maps in SEC(".maps") with __uint/__type'
            )
        btf_section = elf.get_section_by_name(".BTF")
        if btf_section is None:
            raise ObjectError(
                "the object has no BTF (.BTF section): compile it with clang -g"
            )
        self.btf = Btf.from_bytes(self._contents(btf_section))
        ext_section = elf.get_section_by_name(".BTF.ext")
        ext = (
            parse_btf_ext(self._contents(ext_section), self.btf.strings)
            if ext_section is not None
            else BtfExt.empty()
        )
        self.ext = ext
        self.symbols = self._read_symbols()
        self.text_index = self.index.get(".text", -1)
        self.maps_index = self.index.get(".maps", -1)
        self.data_indexes = {
            i
            for i, s in enumerate(self.sections)
            if _is_data_section(s.name) and s["sh_flags"] & 2
        }
        self.relocations = self._read_relocation_sections()

        datasecs = self._read_datasecs()
        externs, kconfig = collect_externs(
            self.btf,
            [
                (s.name, s.bind == "STB_WEAK")
                for s in self.symbols
                if s.shndx is None
                and s.bind in ("STB_GLOBAL", "STB_WEAK")
                and s.type == "STT_NOTYPE"
            ],
        )
        if kconfig is not None:
            datasecs[kconfig.section] = kconfig
        maps = self._read_maps()
        for section_name, datasec in datasecs.items():
            maps[section_name] = MapSpec(
                name=section_name,
                type=MapType.ARRAY,
                key_size=4,
                value_size=datasec.size,
                max_entries=1,
                btf_value_type_id=datasec.btf_id,
                datasec=datasec,
            )
        subprograms = {f.offset: f for f in self._functions(self.text_index)}
        self._hidden_subprograms_static()
        programs: dict[str, ProgramSpec] = {}
        for idx, section in enumerate(self.sections):
            if idx == self.text_index or not self._is_program_section(section):
                continue
            for function in self._functions(idx):
                if function.name in programs:
                    raise ObjectError(f"two programs are called {function.name!r}")
                # SEC("?...") is SEC("...") with autoload off; libbpf then forgets
                # the "?" (bpf_program__init).
                name = section.name.removeprefix("?")
                programs[function.name] = ProgramSpec(
                    name=function.name,
                    section=name,
                    kind=find_section_def(name),
                    function=function,
                    autoload=name == section.name,
                )
        for name, struct_ops in self._read_struct_ops(programs).items():
            if name in maps:
                raise ObjectError(f"two maps are called {name!r}")
            if name in programs:
                # One namespace, as bpftool's skeleton struct: obj.links[name].
                raise ObjectError(
                    f"program {name!r} ({programs[name].section}) and struct_ops map"
                    f" {name!r} share a name: links are kept by name; rename one"
                )
            maps[name] = struct_ops
        return ObjectSpec(
            name=self.name,
            btf=self.btf,
            btf_ext=ext,
            license=self._license(),
            kern_version=self._kern_version(),
            maps=maps,
            programs=programs,
            subprograms=subprograms,
            datasecs=datasecs,
            externs=externs,
        )

    # -- ELF plumbing -----------------------------------------------------------------

    def _read_symbols(self) -> list[_Symbol]:
        symtab = self.elf.get_section_by_name(".symtab")
        if not isinstance(symtab, SymbolTableSection):
            raise ObjectError("the object has no symbol table")
        # Elf64_Sym read with struct: pyelftools takes ~100 us per symbol.
        names = self._contents(self.sections[symtab["sh_link"]])
        out: list[_Symbol] = []
        for name_off, info, other, shndx, value, size in _ELF64_SYM.iter_unpack(
            self._contents(symtab)
        ):
            out.append(
                _Symbol(
                    name=_symbol_name(names, name_off, len(out)),
                    value=value,
                    size=size,
                    type=_STT.get(info & 0xF, f"STT_{info & 0xF}"),
                    bind=_STB.get(info >> 4, f"STB_{info >> 4}"),
                    shndx=_section_index(shndx),
                    visibility=other & 0x3,
                )
            )
        return out

    def _read_relocation_sections(self) -> dict[int, list[tuple[int, _Symbol]]]:
        """Relocations by the index of the section they patch: (byte offset, symbol)."""
        out: dict[int, list[tuple[int, _Symbol]]] = {}
        for section in self.sections:
            if section["sh_type"] != "SHT_REL":
                continue
            target = section["sh_info"]
            # DWARF and BTF relocations (thousands of them) concern no loader.
            if not self.sections[target]["sh_flags"] & SHF_ALLOC:
                continue
            entries = out.setdefault(target, [])
            # Elf64_Rel: r_offset, r_info (symbol index in the high 32 bits).
            for r_offset, r_info in _ELF64_REL.iter_unpack(self._contents(section)):
                if r_info >> 32 >= len(self.symbols):
                    raise ObjectError(
                        f"section {section.name!r}: a relocation names symbol "
                        f"{r_info >> 32}, which does not exist"
                    )
                entries.append((r_offset, self.symbols[r_info >> 32]))
        return out

    def _contents(self, section: Any) -> bytes:
        """A section's bytes as the file holds them: none for SHT_NOBITS whatever
        size it claims, and never decompressed (SHF_COMPRESSED), as libbpf reads
        them; check_layout has put offset and size inside the file."""
        if section["sh_type"] == "SHT_NOBITS":
            return b""
        offset = section["sh_offset"]
        return self.data[offset : offset + section["sh_size"]]

    def _is_program_section(self, section: Any) -> bool:
        return (
            section["sh_type"] == "SHT_PROGBITS"
            and bool(section["sh_flags"] & SHF_EXECINSTR)
            and section["sh_size"] > 0
        )

    def _license(self) -> str:
        section = self.elf.get_section_by_name("license")
        if section is None:
            return ""
        return self._contents(section).split(b"\0", 1)[0].decode("ascii", "replace")

    def _kern_version(self) -> int:
        section = self.elf.get_section_by_name("version")
        data = self._contents(section) if section is not None else b""
        if len(data) != 4:
            return 0
        (version,) = struct.unpack("<I", data)
        return int(version)

    # -- programs ---------------------------------------------------------------------

    def _hidden_subprograms_static(self) -> None:
        """Mark hidden global subprograms static in BTF, as libbpf does before loading.

        The verifier checks a global function on its own, assuming nothing about its
        arguments; a static one in each caller's context.  ``__hidden`` (visibility
        hidden or internal, as usdt.bpf.h declares its helpers) asks for the latter.
        """
        hidden = {
            s.name
            for s in self.symbols
            if s.shndx == self.text_index
            and s.type == "STT_FUNC"
            and s.bind != "STB_LOCAL"
            and s.visibility in (STV_INTERNAL, STV_HIDDEN)
        }
        for item in self.btf.types:
            if (
                isinstance(item, bt.Func)
                and item.linkage == bt.FuncLinkage.GLOBAL
                and item.name in hidden
            ):
                item.linkage = bt.FuncLinkage.STATIC
                hidden.discard(item.name)  # the first FUNC of that name only

    def _functions(self, section_index: int) -> Iterator[FunctionSpec]:
        if section_index < 0:
            return
        section = self.sections[section_index]
        code = self._contents(section)
        if len(code) % INSN_SIZE:
            raise ObjectError(
                f"section {section.name!r} is not a whole number of instructions"
            )
        symbols = sorted(
            (
                s
                for s in self.symbols
                if s.shndx == section_index and s.type == "STT_FUNC"
            ),
            key=lambda s: s.value,
        )
        relocations = sorted(
            self.relocations.get(section_index, []), key=lambda r: r[0]
        )
        for sym in symbols:
            start, end = sym.value, sym.value + sym.size
            if (
                sym.size == 0
                or end > len(code)
                or start % INSN_SIZE
                or sym.size % INSN_SIZE
            ):
                raise ObjectError(f"function {sym.name!r} has a bad size or offset")
            function = FunctionSpec(sym.name, section.name, start, code[start:end])
            for r_offset, target in relocations:
                if start <= r_offset < end:
                    function.relocations.append(
                        self._classify(
                            function, (r_offset - start) // INSN_SIZE, target
                        )
                    )
            function.func_info = _slice(
                self.ext.func_info.get(section.name, []), start, end
            )
            function.line_info = _slice(
                self.ext.line_info.get(section.name, []), start, end
            )
            function.core_relos = _slice(
                self.ext.core_relos.get(section.name, []), start, end
            )
            yield function

    def _classify(self, function: FunctionSpec, insn: int, sym: _Symbol) -> Relocation:
        """What a relocation asks for, by instruction and target (libbpf's rules)."""
        opcode = function.insns[insn * INSN_SIZE]
        src_reg = function.insns[insn * INSN_SIZE + 1] >> 4
        where = f"{function.name!r}+{insn}"
        if opcode == _OPCODE_LD_IMM64 and (insn + 2) * INSN_SIZE > len(function.insns):
            # its immediate's high half (a data offset) is the next instruction
            raise ObjectError(f"{where}: 64-bit load without its second instruction")
        if sym.shndx is None:
            if opcode == _OPCODE_CALL:
                return Relocation(insn, RelocKind.EXTERN_CALL, sym.name, "", 0)
            if opcode == _OPCODE_LD_IMM64:
                return Relocation(insn, RelocKind.EXTERN_VAR, sym.name, "", 0)
            raise ObjectError(
                f"{where}: extern {sym.name!r} used by an unexpected instruction"
            )
        section = (
            self.sections[sym.shndx].name
            if 0 <= sym.shndx < len(self.sections)
            else "?"
        )
        if opcode == _OPCODE_CALL:
            if src_reg != PSEUDO_CALL or sym.shndx != self.text_index:
                raise ObjectError(
                    f"{where}: call to {sym.name or section!r} is not a .text function"
                )
            return Relocation(insn, RelocKind.CALL, sym.name, section, sym.value)
        if opcode != _OPCODE_LD_IMM64:
            raise ObjectError(f"{where}: relocation against opcode {opcode:#x}")
        if sym.shndx == self.text_index:
            return Relocation(
                insn, RelocKind.SUBPROG_ADDR, sym.name, section, sym.value
            )
        if sym.shndx == self.maps_index:
            return Relocation(insn, RelocKind.MAP_FD, sym.name, section, sym.value)
        if sym.shndx in self.data_indexes:
            return Relocation(insn, RelocKind.DATA, sym.name, section, sym.value)
        raise ObjectError(f"{where}: reference to section {section!r} is not supported")

    # -- global data ------------------------------------------------------------------

    def _read_datasecs(self) -> dict[str, DatasecSpec]:
        """Global-data sections, after every DATASEC that names an ELF section is fixed
        up as libbpf does: the compiler leaves size and offsets 0; they come from the
        section's size and the variables' symbols."""
        variables: dict[str, list[VariableSpec]] = {}
        for item in self.btf.types:
            if isinstance(item, bt.Datasec) and item.name in self.index:
                idx = self.index[item.name]
                variables[item.name] = self._fixup_datasec(item, idx)
        self.datasec_variables = variables
        out: dict[str, DatasecSpec] = {}
        for idx in sorted(self.data_indexes):
            section = self.sections[idx]
            size = _section_map_size(section)
            if size == 0:
                continue
            # .bss: no bytes to copy, and none allocated before they are needed
            data = (
                bytearray()
                if section["sh_type"] == "SHT_NOBITS"
                else bytearray(self._contents(section))
            )
            btf_ids = self.btf.find(section.name, bt.Datasec)
            out[section.name] = DatasecSpec(
                section.name,
                size,
                data,
                btf_ids[0] if btf_ids else 0,
                variables.get(section.name, []),
            )
        return out

    def _fixup_datasec(
        self, datasec: bt.Datasec, section_index: int
    ) -> list[VariableSpec]:
        datasec.size = _section_map_size(self.sections[section_index])
        values = {
            s.name: s.value
            for s in self.symbols
            if s.shndx == section_index and s.type in ("STT_OBJECT", "STT_NOTYPE")
        }
        variables = []
        for secinfo in datasec.vars:
            var = self.btf[secinfo.type_id]
            if not isinstance(var, bt.Var):
                continue
            if var.name not in values:
                raise ObjectError(
                    f"variable {var.name!r} of {datasec.name!r} has no ELF symbol"
                )
            secinfo.offset = values[var.name]
            secinfo.size = self.btf.size_of(var.type_id)
            if secinfo.offset + secinfo.size > datasec.size:
                raise ObjectError(
                    f"variable {var.name!r} of {datasec.name!r}: {secinfo.size} bytes "
                    f"at offset {secinfo.offset} lie outside the section "
                    f"({datasec.size} bytes)"
                )
            variables.append(
                VariableSpec(
                    var.name, secinfo.offset, secinfo.size, var.type_id, var.linkage
                )
            )
        # The kernel wants DATASEC members in offset order.
        datasec.vars.sort(key=lambda v: v.offset)
        return sorted(variables, key=lambda v: v.offset)

    # -- maps -------------------------------------------------------------------------

    def _read_maps(self) -> dict[str, MapSpec]:
        out: dict[str, MapSpec] = {}
        if self.maps_index < 0:
            return out
        # A definition with initial .values is larger than its BTF struct (a flexible
        # array): its ELF symbol has the real size.
        sizes = {s.name: s.size for s in self.symbols if s.shndx == self.maps_index}
        extents: list[tuple[MapSpec, int, int | None]] = []
        for btf_id in self.btf.find(".maps", bt.Datasec):
            datasec = self.btf[btf_id]
            assert isinstance(datasec, bt.Datasec)
            for secinfo in datasec.vars:
                var = self.btf[secinfo.type_id]
                if not isinstance(var, bt.Var):
                    continue
                spec = self._map_definition(var.name, var.type_id)
                spec.section_offset = secinfo.offset
                out[var.name] = spec
                size = sizes.get(var.name, secinfo.size)
                extents.append((spec, size, self._values_offset(var.type_id)))
        self._read_map_slots(out, extents)
        return out

    def _values_offset(self, type_id: int) -> int | None:
        """Where ``values`` sits in a map definition: it must be the last member."""
        definition = self.btf[self.btf.resolve(type_id)]
        if isinstance(definition, bt.Struct) and definition.members:
            last = definition.members[-1]
            if last.name == "values":
                return last.bit_offset // 8
        return None

    def _read_struct_ops(self, programs: dict[str, ProgramSpec]) -> dict[str, MapSpec]:
        """The struct_ops maps, each member relocation resolved to its program."""
        by_place = {(p.section, p.function.offset): p.name for p in programs.values()}
        out: dict[str, MapSpec] = {}
        for idx, section in enumerate(self.sections):
            if not is_struct_ops_section(section.name):
                continue
            targets: dict[int, str] = {}
            for offset, sym in self.relocations.get(idx, []):
                where = (
                    self.sections[sym.shndx].name
                    if sym.shndx is not None and 0 <= sym.shndx < len(self.sections)
                    else ""
                )
                program = by_place.get((where.removeprefix("?"), sym.value))
                if program is None:
                    raise ObjectError(
                        f"{section.name}: the member at byte {offset} points to "
                        f"{sym.name!r}, which is not a program"
                    )
                targets[offset] = program
            for spec in struct_ops_maps(
                self.btf,
                section.name,
                self._contents(section),
                self.datasec_variables.get(section.name, []),
                targets,
            ):
                if spec.name in out:
                    raise ObjectError(f"two struct_ops maps are called {spec.name!r}")
                out[spec.name] = spec
        return out

    def _read_map_slots(
        self, maps: dict[str, MapSpec], extents: list[tuple[MapSpec, int, int | None]]
    ) -> None:
        """``.values = { [i] = &target }`` of prog arrays and maps of maps: each is an
        ELF relocation in ``.maps`` whose offset in the definition gives the slot
        (libbpf's ``bpf_object__collect_map_relos``)."""
        for r_offset, sym in self.relocations.get(self.maps_index, []):
            found = [
                (spec, values)
                for spec, size, values in extents
                if spec.section_offset <= r_offset
                and r_offset + _POINTER_SIZE <= spec.section_offset + size
            ]
            if not found:
                raise ObjectError(f".maps relocation at {r_offset} is inside no map")
            spec, values = found[0]
            at = r_offset - spec.section_offset - (values if values is not None else 0)
            if values is None or at < 0 or at % _POINTER_SIZE:
                raise ObjectError(f"map {spec.name!r}: a relocation outside .values")
            index = at // _POINTER_SIZE
            if spec.type == MapType.PROG_ARRAY:
                in_program = (
                    sym.shndx is not None
                    and 0 <= sym.shndx < len(self.sections)
                    and sym.shndx != self.text_index
                    and self._is_program_section(self.sections[sym.shndx])
                )
                if sym.type != "STT_FUNC" or not in_program:
                    raise ObjectError(
                        f"map {spec.name!r}: slot {index} is not a program"
                    )
            elif sym.shndx != self.maps_index or sym.name not in maps:
                raise ObjectError(f"map {spec.name!r}: slot {index} is not a map")
            spec.initial_slots[index] = sym.name

    def _map_definition(self, name: str, type_id: int) -> MapSpec:
        definition = self.btf[self.btf.resolve(type_id)]
        if not isinstance(definition, bt.Struct):
            raise ObjectError(f"map {name!r}: definition is not a struct")
        spec = MapSpec(name, MapType.UNSPEC, 0, 0, 0)
        has_values = False
        for member in definition.members:
            if member.name in ("key", "value"):
                value_type = self._pointee(name, member)
                size = self.btf.size_of(value_type)
                if member.name == "key":
                    spec.key_size, spec.btf_key_type_id = size, value_type
                else:
                    spec.value_size, spec.btf_value_type_id = size, value_type
            elif member.name == "values":
                has_values = True
                spec.inner = self._inner_map(name, member)
            elif member.name == "map_extra":
                spec.map_extra = self._ulong(name, member)
            else:
                value = self._uint(name, member)
                if member.name == "type":
                    try:
                        spec.type = MapType(value)
                    except ValueError:
                        raise ObjectError(
                            f"map {name!r}: unknown map type {value}"
                        ) from None
                elif member.name in (
                    "max_entries",
                    "numa_node",
                    "pinning",
                    "key_size",
                    "value_size",
                ):
                    setattr(spec, member.name, value)
                elif member.name == "map_flags":
                    spec.flags = value
                else:
                    raise ObjectError(
                        f"map {name!r}: unknown attribute {member.name!r}"
                    )
        if has_values:
            self._check_values(spec)
        return spec

    @staticmethod
    def _check_values(spec: MapSpec) -> None:
        """``__array(values, ...)``: inner maps of a map of maps, or (function
        pointers) the programs of a prog array; the kernel's values are 4-byte fds."""
        if spec.value_size not in (0, 4):
            raise ObjectError(f"map {spec.name!r}: values need value_size 4")
        spec.value_size = 4
        is_map_in_map = spec.type in (MapType.ARRAY_OF_MAPS, MapType.HASH_OF_MAPS)
        if is_map_in_map and spec.inner is None:
            raise ObjectError(
                f"map {spec.name!r}: values of a map of maps must be maps"
            )
        if spec.type == MapType.PROG_ARRAY and spec.inner is not None:
            raise ObjectError(
                f"map {spec.name!r}: values of a prog array must be programs"
            )
        if not is_map_in_map and spec.type != MapType.PROG_ARRAY:
            raise ObjectError(
                f"map {spec.name!r}: values is only for maps of maps and prog arrays"
            )

    def _pointee(self, map_name: str, member: bt.Member) -> int:
        ptr = self.btf[self.btf.skip_modifiers(member.type_id)]
        if not isinstance(ptr, bt.Ptr):
            raise ObjectError(
                f"map {map_name!r}: {member.name!r} is not declared with __type()"
            )
        return ptr.type_id

    def _uint(self, map_name: str, member: bt.Member) -> int:
        array = self.btf[self.btf.resolve(self._pointee(map_name, member))]
        if not isinstance(array, bt.Array):
            raise ObjectError(
                f"map {map_name!r}: {member.name!r} is not declared with __uint()"
            )
        return array.nelems

    def _ulong(self, map_name: str, member: bt.Member) -> int:
        """A 64-bit attribute (``map_extra``: an arena's start address) declared
        with ``__ulong()``, an anonymous enum of the one value, or with ``__uint()``
        (libbpf's ``get_map_field_long``)."""
        declared = self.btf[self.btf.resolve(member.type_id)]
        if isinstance(declared, bt.Ptr):
            return self._uint(map_name, member)
        if not isinstance(declared, bt.Enum) or len(declared.values) != 1:
            raise ObjectError(
                f"map {map_name!r}: {member.name!r} is not declared with"
                " __ulong() or __uint()"
            )
        # A signed enum's negative value as the u64 of bpf_attr.  (libbpf reads a
        # 32-bit ENUM's value as signed even when BTF says unsigned: 0x80000000
        # would become 0xffffffff80000000 there; here it stays what C declared.)
        return declared.values[0].value & (1 << 64) - 1

    def _inner_map(self, map_name: str, member: bt.Member) -> MapSpec | None:
        """The inner map definition, or None for function pointers (prog arrays)."""
        array = self.btf[self.btf.resolve(member.type_id)]
        if not isinstance(array, bt.Array):
            raise ObjectError(
                f"map {map_name!r}: values is not declared with __array()"
            )
        inner_ptr = self.btf[self.btf.resolve(array.elem_type)]
        if not isinstance(inner_ptr, bt.Ptr):
            raise ObjectError(f"map {map_name!r}: values is not an array of pointers")
        if isinstance(self.btf[self.btf.resolve(inner_ptr.type_id)], bt.FuncProto):
            return None
        return self._map_definition(f"{map_name}.inner", inner_ptr.type_id)


def _section_index(shndx: int) -> int | None:
    """None for SHN_UNDEF (an extern), -1 for SHN_ABS and SHN_COMMON (no section)."""
    if shndx == 0:
        return None
    return -1 if shndx in (0xFFF1, 0xFFF2) else shndx


def _slice(records: list[Any], start: int, end: int) -> list[Any]:
    """Records inside [start, end), rebased so the function starts at 0."""
    return [shift(r, -start) for r in records if start <= r.insn_off < end]


def _symbol_name(names: bytes, offset: int, index: int) -> str:
    end = names.find(b"\0", offset)
    if offset >= len(names) or end < 0:
        raise ObjectError(f"symbol {index}: its name lies outside the string table")
    try:
        return names[offset:end].decode()
    except UnicodeDecodeError:
        raise ObjectError(
            f"symbol {index}: its name {names[offset:end]!r} is not UTF-8"
        ) from None


def _section_map_size(section: Any) -> int:
    """The size of a section that becomes a map value (global data, DATASECs)."""
    size = int(section["sh_size"])
    if size > MAX_SECTION_MAP_SIZE:
        raise ObjectError(
            f"section {section.name!r} is {size} bytes, more than the kernel allows "
            f"for a map value ({MAX_SECTION_MAP_SIZE})"
        )
    return size
