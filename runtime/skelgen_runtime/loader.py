"""ObjectSpec → kernel objects: BTF, maps, relocated programs.

The order is libbpf's: load the object's BTF, create maps (global data filled in,
``.rodata`` frozen, then mapped into user memory), then link, relocate and load each
program.  A failure anywhere closes everything created so far.
"""

from __future__ import annotations

import ctypes
import errno
import os

from . import kernel_btf
from .errors import (
    LoadError,
    LoadPermissionError,
    describe_errno,
    privilege_hint,
)
from .linker import LinkedProgram, get_imm, link_program, set_imm, set_src_reg
from .maps import Map
from .memory import PAGE_SIZE, SectionMemory
from .program import Program
from .sections import SecFlag
from .spec import MapSpec, ObjectSpec, RelocKind
from .sys import attr as a
from .sys import commands as cmd
from .sys.consts import PSEUDO_MAP_FD, PSEUDO_MAP_VALUE, MapFlag, MapType, ProgFlag

LOG_SIZE_FIRST = 1 << 20
LOG_SIZE_MAX = 1 << 30
LOG_TAIL_LINES = 12


def possible_cpus() -> int:
    """Number of possible CPUs (``/sys/devices/system/cpu/possible``, e.g. ``0-3``)."""
    with open("/sys/devices/system/cpu/possible") as f:
        text = f.read().strip()
    count = 0
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        count += int(hi or lo) - int(lo) + 1
    return count


def internal_map_name(object_name: str, section: str) -> str:
    """libbpf's kernel name for a global-data map: up to 8 characters of the object
    name then the section (``minimal.bss``); custom ``.data.x`` sections use their
    own name alone.  15 characters at most."""
    suffix_len = min(max(7, len(section)), 15)
    prefix_len = 0 if "." in section[1:] else min(15 - suffix_len, len(object_name))
    return (object_name[:prefix_len] + section[:suffix_len])[:15]


def _log_tail(log: str) -> str:
    lines = [line for line in log.splitlines() if line.strip()]
    return "\n".join(lines[-LOG_TAIL_LINES:])


class Loader:
    """Loads one object; on success every Map and Program has its fd."""

    def __init__(self, spec: ObjectSpec, maps: dict[str, Map], programs: dict[str, Program],
                 memories: dict[str, SectionMemory], kernel_btf_path: str | None = None) -> None:
        self.spec = spec
        self.maps = maps
        self.programs = programs
        self.memories = memories
        self.kernel_btf_path = kernel_btf_path or kernel_btf.VMLINUX_BTF
        self.btf_fd: int | None = None
        self._maps_by_offset = {
            m.spec.section_offset: m for m in maps.values() if m.spec.datasec is None
        }

    def load(self) -> int | None:
        """Load everything; returns the object's BTF fd (owned by the caller)."""
        try:
            self.btf_fd = self._load_btf()
            for m in self.maps.values():
                self._create_map(m)
            for program in self.programs.values():
                if program.autoload:
                    self._load_program(program)
        except BaseException:
            self.unload()
            raise
        return self.btf_fd

    def unload(self) -> None:
        """Close every fd made so far (safe to call more than once)."""
        for memory in self.memories.values():
            memory.unmap_kernel()
        for program in self.programs.values():
            program.close()
        for m in self.maps.values():
            m.close()
        if self.btf_fd is not None:
            os.close(self.btf_fd)
            self.btf_fd = None

    # -- BTF --------------------------------------------------------------------------

    def _load_btf(self) -> int:
        blob = self.spec.btf.encode()
        try:
            return cmd.btf_load(blob)
        except OSError:
            pass
        log = ctypes.create_string_buffer(LOG_SIZE_FIRST)
        try:
            return cmd.btf_load(blob, log)
        except OSError as exc:
            text = log.value.decode("utf-8", "replace")
            code = exc.errno or 0
            cls = LoadPermissionError if code == errno.EPERM else LoadError
            raise cls(
                f"the kernel rejected the object's BTF: {describe_errno(code)}"
                f"{privilege_hint(code)}\n{_log_tail(text)}",
                log=text, errno=code,
            ) from None

    # -- maps -------------------------------------------------------------------------

    def _create_map(self, m: Map) -> None:
        spec = m.spec
        kwargs = self._map_attributes(spec)
        name = (
            internal_map_name(self.spec.name, spec.name) if spec.datasec is not None else spec.name
        )
        try:
            try:
                fd = cmd.map_create(name=name, btf_fd=self.btf_fd or 0, **kwargs)
            except OSError as exc:
                if not kwargs.get("btf_key_type_id") and not kwargs.get("btf_value_type_id"):
                    raise
                if exc.errno == errno.EPERM:
                    raise
                # libbpf retries without BTF types: some map kinds refuse them.
                kwargs.update(btf_key_type_id=0, btf_value_type_id=0)
                fd = cmd.map_create(name=name, **kwargs)
        except OSError as exc:
            code = exc.errno or 0
            cls = LoadPermissionError if code == errno.EPERM else LoadError
            raise cls(f"create map {spec.name}: {describe_errno(code)}{privilege_hint(code)}",
                      errno=code) from None
        m._set_fd(fd)
        if spec.datasec is not None:
            self._fill_datasec(m)

    def _map_attributes(self, spec: MapSpec) -> dict[str, int]:
        key_size, value_size, max_entries = spec.key_size, spec.value_size, spec.max_entries
        key_id, value_id = spec.btf_key_type_id, spec.btf_value_type_id
        flags = spec.flags
        if spec.type == MapType.RINGBUF or spec.type == MapType.USER_RINGBUF:
            # Events may be typed in BTF for the generator, but the kernel wants none.
            key_size = value_size = key_id = value_id = 0
            max_entries = _ringbuf_size(max_entries)
        elif spec.type == MapType.PERF_EVENT_ARRAY:
            key_size = key_size or 4
            value_size = value_size or 4
            max_entries = max_entries or possible_cpus()
            key_id = value_id = 0
        if spec.datasec is not None:
            key_id = 0
            if spec.name in self.memories:
                flags |= MapFlag.MMAPABLE
            if spec.datasec.readonly:
                flags |= MapFlag.RDONLY_PROG
        return {
            "map_type": spec.type,
            "key_size": key_size,
            "value_size": value_size,
            "max_entries": max_entries,
            "flags": flags,
            "numa_node": spec.numa_node,
            "map_extra": spec.map_extra,
            "btf_key_type_id": key_id,
            "btf_value_type_id": value_id,
        }

    def _fill_datasec(self, m: Map) -> None:
        datasec = m.spec.datasec
        assert datasec is not None
        memory = self.memories.get(m.spec.name)
        initial = memory.read() if memory is not None else bytes(datasec.data)
        key = ctypes.c_uint32(0)
        value = ctypes.create_string_buffer(initial, len(initial))
        try:
            cmd.map_update(m.fd, ctypes.addressof(key), ctypes.addressof(value))
            if datasec.readonly:
                cmd.map_freeze(m.fd)
            if memory is not None:
                memory.map_kernel(m.fd, readonly=datasec.readonly)
        except OSError as exc:
            raise LoadError(f"initialise {m.spec.name}: {describe_errno(exc.errno or 0)}",
                            errno=exc.errno or 0) from None

    # -- programs ---------------------------------------------------------------------

    def _load_program(self, program: Program) -> None:
        spec = program.spec
        if spec.kind is None:
            raise LoadError(
                f"program {program.name}: section {program.section!r} does not name a program "
                "type libbpf knows",
                program=program.name,
            )
        linked = link_program(self.spec, spec)
        self._relocate(program, linked)
        attr = a.ProgLoadAttr(
            prog_type=spec.kind.prog_type,
            expected_attach_type=spec.kind.expected_attach_type or 0,
            kern_version=self.spec.kern_version,
            prog_name=_kernel_name(program.name),
            prog_flags=_prog_flags(spec.kind.definition.flags),
        )
        insns = ctypes.create_string_buffer(bytes(linked.insns), len(linked.insns))
        license_buf = ctypes.create_string_buffer(self.spec.license.encode())
        attr.insns = ctypes.addressof(insns)
        attr.insn_cnt = linked.insn_count
        attr.license = ctypes.addressof(license_buf)
        keep_alive: list[object] = [insns, license_buf]
        if self.btf_fd is not None and linked.func_info:
            attr.prog_btf_fd = self.btf_fd
            self._set_ext_info(attr, linked, keep_alive)
        if spec.kind.definition.attach_btf:
            self._set_attach_btf(program, attr)
        self._load_with_log(program, attr)

    def _set_ext_info(self, attr: a.ProgLoadAttr, linked: LinkedProgram,
                      keep_alive: list[object]) -> None:
        func_info = (ctypes.c_uint32 * (2 * len(linked.func_info)))(
            *[v for r in linked.func_info for v in (r.insn_off, r.type_id)]
        )
        line_info = (ctypes.c_uint32 * (4 * len(linked.line_info)))(
            *[v for r in linked.line_info
              for v in (r.insn_off, r.file_name_off, r.line_off, r.line_col)]
        )
        keep_alive += [func_info, line_info]
        attr.func_info_rec_size = 8
        attr.func_info = ctypes.addressof(func_info)
        attr.func_info_cnt = len(linked.func_info)
        if linked.line_info:
            attr.line_info_rec_size = 16
            attr.line_info = ctypes.addressof(line_info)
            attr.line_info_cnt = len(linked.line_info)

    def _set_attach_btf(self, program: Program, attr: a.ProgLoadAttr) -> None:
        spec = program.spec
        assert spec.kind is not None
        target = program.attach_target
        if not target:
            raise LoadError(f"program {program.name}: no attach target in section "
                            f"{program.section!r}; call set_attach_target()",
                            program=program.name)
        if spec.attach_prog_fd is not None:
            raise LoadError(f"program {program.name}: attaching to another BPF program "
                            "(freplace) is not supported yet", program=program.name)
        btf = kernel_btf.load_btf_file(self.kernel_btf_path)
        attr.attach_btf_id = kernel_btf.attach_btf_id(
            btf, spec.kind.prog_type, spec.kind.expected_attach_type, target
        )

    def _load_with_log(self, program: Program, attr: a.ProgLoadAttr) -> None:
        try:
            program._set_fd(cmd.prog_load(attr))
            return
        except OSError as exc:
            if exc.errno == errno.EPERM:
                raise self._load_error(program, exc, "") from None
        size = LOG_SIZE_FIRST
        while True:
            log = ctypes.create_string_buffer(size)
            attr.log_level, attr.log_size, attr.log_buf = 1, size, ctypes.addressof(log)
            try:
                program._set_fd(cmd.prog_load(attr))
                return
            except OSError as exc:
                if exc.errno == errno.ENOSPC and size < LOG_SIZE_MAX:
                    size = max(size * 4, attr.log_true_size)
                    continue
                raise self._load_error(program, exc, log.value.decode("utf-8", "replace")) from None

    @staticmethod
    def _load_error(program: Program, exc: OSError, log: str) -> LoadError:
        code = exc.errno or 0
        cls = LoadPermissionError if code == errno.EPERM else LoadError
        what = "the verifier rejected it" if log else "the kernel refused it"
        tail = f"\n{_log_tail(log)}" if log else ""
        return cls(
            f"load program {program.name} ({program.section}): {what}: "
            f"{describe_errno(code)}{privilege_hint(code)}{tail}",
            program=program.name, log=log, errno=code,
        )

    def _relocate(self, program: Program, linked: LinkedProgram) -> None:
        insns = linked.insns
        for reloc in linked.relocations:
            at = reloc.insn
            if reloc.kind == RelocKind.MAP_FD:
                target = self._maps_by_offset.get(reloc.offset)
                if target is None:
                    raise LoadError(f"program {program.name}: {reloc.symbol} is not a map",
                                    program=program.name)
                set_src_reg(insns, at, PSEUDO_MAP_FD)
                set_imm(insns, at, target.fd)
            elif reloc.kind == RelocKind.DATA:
                data_map = self.maps.get(reloc.section)
                if data_map is None:
                    raise LoadError(f"program {program.name}: no map for {reloc.section}",
                                    program=program.name)
                offset = get_imm(insns, at) + reloc.offset
                set_src_reg(insns, at, PSEUDO_MAP_VALUE)
                set_imm(insns, at, data_map.fd)
                set_imm(insns, at + 1, offset)
            else:
                raise LoadError(
                    f"program {program.name}: extern {reloc.symbol!r} is not supported yet",
                    program=program.name,
                )


def _ringbuf_size(size: int) -> int:
    """The kernel wants a power-of-two multiple of the page size."""
    size = max(size, PAGE_SIZE)
    return 1 << (size - 1).bit_length()


def _kernel_name(name: str) -> bytes:
    clean = "".join(c if c.isalnum() or c in "_." else "_" for c in name)
    return clean.encode()[:15]


def _prog_flags(flags: SecFlag) -> int:
    out = 0
    if flags & SecFlag.SLEEPABLE:
        out |= ProgFlag.SLEEPABLE
    if flags & SecFlag.XDP_FRAGS:
        out |= ProgFlag.XDP_HAS_FRAGS
    return out

