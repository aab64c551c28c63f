"""ObjectSpec → kernel objects: BTF, maps, relocated programs.

The order is libbpf's: resolve externs (``.kconfig`` values, ksyms, kfuncs), load
the object's BTF (sanitised for what the kernel lacks), create maps (global data
filled in, ``.rodata`` and ``.kconfig`` frozen, then mapped into user memory), then
link each program, apply its CO-RE relocations against the kernel's BTF, relocate
maps, data and externs, and load it.  A failure anywhere closes everything created
so far.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import functools
import os
from collections.abc import Callable, Mapping

from ..errors import (
    LoadError,
    MapError,
    describe_errno,
    for_errno,
    privilege_hint,
)
from ..features import (
    btf as btf_features,
    maps as map_features,
    programs as program_features,
)
from ..features.memlock import ensure_memlock
from ..features.requirements import BTF, STRUCT_OPS_LINK
from ..kernel.cpus import possible_cpus
from ..lean.hints import TYPE_CHECKING, Any
from ..maps.map import Map
from ..obj.linker import (
    LinkedProgram,
    get_imm,
    link_program,
    set_imm,
    set_off,
    set_src_reg,
)
from ..obj.map_types import MAP_IN_MAP_TYPES
from ..obj.sections import SecFlag
from ..obj.spec import ExternKind, MapSpec, ObjectSpec, Relocation, RelocKind
from ..program import Program
from ..sys import attr as a, commands as cmd
from ..sys.syscall import BPF_FS_MAGIC, PAGE_SIZE
from ..uapi.bpf import (
    PSEUDO_BTF_ID,
    PSEUDO_KFUNC_CALL,
    PSEUDO_MAP_FD,
    PSEUDO_MAP_VALUE,
    Cmd,
    MapFlag,
    MapType,
    ProgFlag,
    ProgType,
)
from .memory import SectionMemory

if TYPE_CHECKING:
    from ..btf.btf import AbstractBtf
    from ..btf.core import Relocator
    from ..btf.lazy import LazyBtf
    from ..kernel.ksyms import Ksyms
    from .struct_ops import KernelStructOps, MemberProgram

LOG_SIZE_FIRST = 1 << 20
LOG_SIZE_MAX = 1 << 30
LOG_TAIL_LINES = 12


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

    def __init__(
        self,
        spec: ObjectSpec,
        maps: dict[str, Map[Any, Any]],
        programs: dict[str, Program],
        memories: dict[str, SectionMemory],
        custom_btf_path: str | None = None,
        kconfig: Mapping[str, object] | None = None,
    ) -> None:
        self.spec = spec
        self.maps = maps
        self.programs = programs
        self.memories = memories
        self.btf_fd: int | None = None
        self.kconfig = dict(kconfig or {})  # CONFIG_* values that override the kernel's
        # CO-RE's target instead of the kernel's; attach targets are always the kernel's
        self.custom_btf_path = custom_btf_path
        self.ksyms: Ksyms | None = None  # resolved when the object has externs
        # the instructions each program went to the kernel with (for inspection)
        self.program_insns: dict[str, bytes] = {}
        self._relocator: Relocator | None = None
        self._modules: list[tuple[str, LazyBtf]] | None = None
        self._maps_by_offset = {
            m.spec.section_offset: m
            for m in maps.values()
            if m.spec.datasec is None and m.spec.struct_ops is None
        }
        self._struct_ops: dict[str, KernelStructOps] = {}  # by map name
        self._member_programs: dict[str, MemberProgram] = {}  # struct_ops programs
        self._reused: set[str] = set()  # maps taken over from a pin
        self._pinned_here: list[Map[Any, Any]] = []  # unpinned again if load fails
        self._created_dirs: list[str] = []  # for pins; removed again if load fails

    def load(self) -> None:
        """Load everything; :meth:`unload` releases it all again (BTF fd included)."""
        try:
            ensure_memlock()
            self._resolve_externs()
            self.btf_fd = self._load_btf()
            self._resolve_struct_ops()
            for m in self.maps.values():
                if m.autocreate:
                    self._create_map(m)
            self._fill_slots(MAP_IN_MAP_TYPES, self.maps)
            self._pin_maps()
            for program in self.programs.values():
                if program.autoload:
                    self._load_program(program)
            self._fill_slots(frozenset({MapType.PROG_ARRAY}), self.programs)
            self._struct_ops_values()
        except BaseException:
            for m in self._pinned_here:  # as libbpf: a failed load leaves no pins
                with contextlib.suppress(MapError):
                    m.unpin()
            for path in reversed(self._created_dirs):  # nor directories
                with contextlib.suppress(OSError):
                    os.rmdir(path)
            self.unload()
            raise
        finally:
            # loaded programs hold their own references to module BTFs
            if self.ksyms is not None:
                for fd in self.ksyms.module_fds.values():
                    os.close(fd)
                self.ksyms.module_fds.clear()

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

    def _load_btf(self) -> int | None:
        from ..btf.sanitize import sanitize

        if not btf_features.has_btf():
            # As libbpf: BTF is optional unless struct_ops need it.
            if any(m.spec.type == MapType.STRUCT_OPS for m in self.maps.values()):
                raise LoadError(
                    f"struct_ops maps need the object's BTF: {BTF.message()}",
                    errno=errno.EOPNOTSUPP,
                )
            return None
        blob = sanitize(self.spec.btf, btf_features.missing_btf_features()).encode()
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
            cls = for_errno(LoadError, code)
            raise cls(
                f"the kernel rejected the object's BTF: {describe_errno(code)}"
                f"{privilege_hint(code)}\n{_log_tail(text)}",
                log=text,
                errno=code,
            ) from None

    # -- maps -------------------------------------------------------------------------

    def _create_map(self, m: Map[Any, Any]) -> None:
        spec = m.spec
        kwargs = self._map_attributes(spec)
        if m.pin_path is not None and self._reuse_pinned(m, kwargs):
            return
        name = (
            internal_map_name(self.spec.name, spec.name)
            if spec.datasec is not None
            else spec.name
        )
        if self.btf_fd is None:
            kwargs.update(btf_key_type_id=0, btf_value_type_id=0)
        inner_fd, own_inner = self._inner_map_fd(m)
        module_btf_fd = self._struct_ops_attributes(m, kwargs)
        try:
            try:
                fd = cmd.map_create(
                    name=name, btf_fd=self.btf_fd or 0, inner_map_fd=inner_fd, **kwargs
                )
            except OSError as exc:
                if not kwargs.get("btf_key_type_id") and not kwargs.get(
                    "btf_value_type_id"
                ):
                    raise
                if exc.errno == errno.EPERM:
                    raise
                # libbpf retries without BTF types: some map kinds refuse them.
                kwargs.update(btf_key_type_id=0, btf_value_type_id=0)
                fd = cmd.map_create(name=name, inner_map_fd=inner_fd, **kwargs)
        except OSError as exc:
            if (
                kwargs["flags"] & MapFlag.LINK
                and exc.errno == errno.EINVAL
                and not map_features.has_struct_ops_links()
            ):
                raise LoadError(
                    f"create map {spec.name}: {STRUCT_OPS_LINK.message()}",
                    errno=errno.EINVAL,
                ) from None
            raise _map_load_error(f"create map {spec.name}", exc, spec.type) from None
        finally:
            if own_inner:
                os.close(inner_fd)
            if module_btf_fd:
                os.close(module_btf_fd)
        m._set_fd(fd)
        spec.max_entries = kwargs["max_entries"]  # as libbpf: the size the kernel has
        if spec.datasec is not None:
            self._fill_datasec(m)

    # -- struct_ops -------------------------------------------------------------------

    def _resolve_struct_ops(self) -> None:
        """Match each struct_ops map to the kernel's table; its programs learn the
        attach BTF id and member index they are loaded with."""
        wanted = [
            (m, m.spec.struct_ops)
            for m in self.maps.values()
            if m.spec.struct_ops is not None and m.autocreate
        ]
        if not wanted:
            return
        from ..kernel import btf as kernel_btf
        from .struct_ops import resolve_struct_ops

        vmlinux = kernel_btf.load_btf_file()
        candidates: list[tuple[str, Callable[[], AbstractBtf]]] = [
            ("vmlinux", lambda: vmlinux)
        ]
        candidates += [
            (name, functools.partial(kernel_btf.load_module_btf, name, vmlinux))
            for name in kernel_btf.module_btf_names()
        ]
        used = self._member_programs
        for m, spec in wanted:
            kernel = resolve_struct_ops(m.name, spec, self.spec.btf, candidates)
            for program, member in kernel.programs.items():
                found = self.programs.get(program)
                if found is None or found.prog_type != ProgType.STRUCT_OPS:
                    raise LoadError(
                        f"struct_ops {m.name}: {program!r} is no struct_ops program "
                        "of the object",
                        program=program,
                    )
                if used.setdefault(program, member) != member:
                    raise LoadError(
                        f"program {program} implements members of two different "
                        "struct_ops tables",
                        program=program,
                    )
            self._struct_ops[m.name] = kernel

    def _struct_ops_attributes(self, m: Map[Any, Any], kwargs: dict[str, int]) -> int:
        """Map attributes of a struct_ops map; returns the fd of the module BTF
        that holds its value type (0 for vmlinux), to close after creating it."""
        kernel = self._struct_ops.get(m.name)
        if kernel is None:
            return 0
        m.spec.value_size = len(kernel.value)  # lookups read the kernel's value
        kwargs.update(
            value_size=len(kernel.value),
            btf_key_type_id=0,
            btf_value_type_id=0,
            btf_vmlinux_value_type_id=kernel.value_type_id,
        )
        if kernel.btf_name == "vmlinux":
            return 0
        fd = kernel_btf_fd(kernel.btf_name)
        kwargs.update(
            value_type_btf_obj_fd=fd, flags=kwargs["flags"] | MapFlag.VTYPE_BTF_OBJ_FD
        )
        return fd

    def _struct_ops_values(self) -> None:
        """Each struct_ops map's value with its programs' fds, ready to register."""
        for name, kernel in self._struct_ops.items():
            from ..maps.struct_ops import StructOpsMap

            fds = {}
            for program in kernel.fd_offsets:
                if not self.programs[program].loaded:
                    raise LoadError(
                        f"struct_ops {name}: program {program} is not loaded "
                        "(autoload is off)",
                        program=program,
                    )
                fds[program] = self.programs[program].fd
            target = self.maps[name]
            assert isinstance(target, StructOpsMap)
            target.kernel_value = kernel.value_with_fds(fds)

    def _reuse_pinned(self, m: Map[Any, Any], kwargs: dict[str, int]) -> bool:
        """Take over the map pinned at ``m.pin_path`` if there is one (libbpf's
        ``LIBBPF_PIN_BY_NAME``); a pinned map that differs is an error."""
        from ..maps.info import open_pinned_map, read_map_info

        path = m.pin_path
        assert path is not None
        try:
            fd = open_pinned_map(path)
        except OSError as exc:
            if exc.errno == errno.ENOENT:
                return False
            raise _map_load_error(
                f"map {m.name}: open the map pinned at {path}", exc
            ) from None
        except MapError as exc:
            raise LoadError(f"map {m.name}: cannot reuse the pin: {exc}") from None
        try:
            info = read_map_info(fd)
        except OSError as exc:
            os.close(fd)
            raise _map_load_error(
                f"map {m.name}: read the map pinned at {path}", exc
            ) from None
        wanted = {
            "type": kwargs["map_type"],
            "key_size": kwargs["key_size"],
            "value_size": kwargs["value_size"],
            "max_entries": kwargs["max_entries"],
            "flags": kwargs["flags"],
            "map_extra": kwargs["map_extra"],
        }
        differences = [
            f"{what} {getattr(info, what)} there, {value} here"
            for what, value in wanted.items()
            if getattr(info, what) != value
        ]
        if differences:
            os.close(fd)
            raise LoadError(
                f"map {m.name}: cannot reuse the map pinned at {path}: "
                + "; ".join(differences)
            )
        m._set_fd(fd)
        m.pinned = True
        self._reused.add(m.name)
        return True

    def _inner_map_fd(self, m: Map[Any, Any]) -> tuple[int, bool]:
        """The template a map of maps is created with: (fd, whether we made it)."""
        if m.spec.type not in MAP_IN_MAP_TYPES:
            return 0, False
        if m.inner_map is not None and m.inner_map.loaded:
            return m.inner_map.fd, False
        inner = m.inner_map.spec if m.inner_map is not None else m.spec.inner
        if inner is None:
            raise LoadError(
                f"map {m.name}: a map of maps needs an inner map: declare it with "
                "__array(values, ...) or call set_inner_map() before load"
            )
        kwargs = self._map_attributes(inner)
        kwargs.update(btf_key_type_id=0, btf_value_type_id=0)
        try:
            return cmd.map_create(name=inner.name, **kwargs), True
        except OSError as exc:
            raise _map_load_error(f"create the inner map of {m.name}", exc) from None

    def _fill_slots(
        self, types: frozenset[MapType], targets: Mapping[str, Any]
    ) -> None:
        """Put the maps (or programs) that ``.values = { ... }`` names in their
        slots of maps of these types.  A slot naming a program that is not loaded
        (autoload off) fails the load, as in libbpf (``init_prog_array_slots``)."""
        for m in self.maps.values():
            if m.spec.type not in types or m.name in self._reused:
                continue
            for index, target_name in sorted(m.spec.initial_slots.items()):
                target = targets.get(target_name)
                if target is None:
                    raise LoadError(f"map {m.name}: slot {index}: no {target_name!r}")
                if not target.loaded:
                    raise LoadError(
                        f"map {m.name}: slot {index} holds {target_name}, which is "
                        "not loaded (autoload is off): load it, or leave the slot "
                        "empty in .values"
                    )
                key, value = ctypes.c_uint32(index), ctypes.c_uint32(target.fd)
                try:
                    cmd.map_update(m.fd, ctypes.addressof(key), ctypes.addressof(value))
                except OSError as exc:
                    raise _map_load_error(
                        f"map {m.name}: put {target_name} in slot {index}", exc
                    ) from None

    def _pin_maps(self) -> None:
        for m in self.maps.values():
            if m.pin_path is None or m.pinned or not m.loaded:
                continue
            self._make_pin_directory(m, os.path.dirname(m.pin_path))
            try:
                m.pin()
            except MapError as exc:
                raise LoadError(str(exc), errno=exc.errno or 0) from None
            self._pinned_here.append(m)

    def _make_pin_directory(self, m: Map[Any, Any], directory: str) -> None:
        """Create ``directory`` (and its parents) for a pin, inside bpffs only;
        what is created here goes again if the load fails."""
        from ..sys.syscall import filesystem_type

        missing: list[str] = []
        existing = os.path.abspath(directory)
        while not os.path.isdir(existing):
            missing.append(existing)
            existing = os.path.dirname(existing)
        try:
            on_bpffs = filesystem_type(existing) == BPF_FS_MAGIC
        except OSError as exc:
            raise LoadError(
                f"map {m.name}: pin directory {directory}: "
                f"{describe_errno(exc.errno or 0)}"
            ) from None
        if not on_bpffs:
            raise LoadError(
                f"map {m.name}: cannot pin at {m.pin_path}: {existing} is not on bpffs "
                "(pin_root must be in a bpf filesystem, as /sys/fs/bpf)"
            )
        for path in reversed(missing):
            try:
                os.mkdir(path)
            except OSError as exc:
                raise LoadError(
                    f"map {m.name}: create pin directory {path}: "
                    f"{describe_errno(exc.errno or 0)}"
                ) from None
            self._created_dirs.append(path)

    def _map_attributes(self, spec: MapSpec) -> dict[str, int]:
        key_size, value_size, max_entries = (
            spec.key_size,
            spec.value_size,
            spec.max_entries,
        )
        key_id, value_id = spec.btf_key_type_id, spec.btf_value_type_id
        flags = spec.flags
        if spec.type == MapType.RINGBUF or spec.type == MapType.USER_RINGBUF:
            # Events may be typed in BTF for the generator, but the kernel wants none.
            key_size = value_size = key_id = value_id = 0
            max_entries = _ringbuf_size(spec)
        elif spec.type == MapType.PERF_EVENT_ARRAY:
            key_size = key_size or 4
            value_size = value_size or 4
            max_entries = max_entries or possible_cpus()
            key_id = value_id = 0
        if spec.datasec is not None:
            key_id = 0
            if spec.name in self.memories and map_features.has_mmapable_arrays():
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

    def _fill_datasec(self, m: Map[Any, Any]) -> None:
        datasec = m.spec.datasec
        assert datasec is not None
        memory = self.memories.get(m.spec.name)
        initial = (
            memory.read()
            if memory is not None
            else bytes(datasec.data).ljust(datasec.size, b"\0")
        )
        key = ctypes.c_uint32(0)
        value = ctypes.create_string_buffer(initial, len(initial))
        try:
            cmd.map_update(m.fd, ctypes.addressof(key), ctypes.addressof(value))
            if datasec.readonly:
                cmd.map_freeze(m.fd)
            if memory is not None and map_features.has_mmapable_arrays():
                memory.map_kernel(m.fd, readonly=datasec.readonly)
            elif memory is not None:
                memory.follow_map(m.fd, readonly=datasec.readonly)
        except OSError as exc:
            raise LoadError(
                f"initialise {m.spec.name}: {describe_errno(exc.errno or 0)}",
                errno=exc.errno or 0,
            ) from None

    # -- programs ---------------------------------------------------------------------

    def _load_program(self, program: Program) -> None:
        from ..btf.sanitize import BtfFeature

        spec = program.spec
        if spec.kind is None:
            raise LoadError(
                f"program {program.name}: section {program.section!r} does not name a program "
                "type libbpf knows",
                program=program.name,
            )
        linked = link_program(self.spec, spec)
        self._apply_core(program, linked)
        self._relocate(program, linked)
        self.program_insns[program.name] = bytes(linked.insns)
        attr = a.ProgLoadAttr(
            prog_type=spec.kind.prog_type,
            expected_attach_type=spec.kind.expected_attach_type or 0,
            kern_version=self.spec.kern_version,
            prog_name=cmd.object_name(program.name),
            prog_flags=_prog_flags(spec.kind.definition.flags),
        )
        insns = ctypes.create_string_buffer(bytes(linked.insns), len(linked.insns))
        license_buf = ctypes.create_string_buffer(self.spec.license.encode())
        attr.insns = ctypes.addressof(insns)
        attr.insn_cnt = linked.insn_count
        attr.license = ctypes.addressof(license_buf)
        keep_alive: list[object] = [insns, license_buf]
        if (
            self.ksyms and self.ksyms.fd_array
        ):  # module BTFs of kfuncs, indexed by call offsets
            fd_array = (ctypes.c_int32 * len(self.ksyms.fd_array))(*self.ksyms.fd_array)
            attr.fd_array = ctypes.addressof(fd_array)
            keep_alive.append(fd_array)
        if (
            self.btf_fd is not None
            and linked.func_info
            and btf_features.has_btf_feature(BtfFeature.FUNC)
        ):
            attr.prog_btf_fd = self.btf_fd
            self._set_ext_info(attr, linked, keep_alive)
        module_btf_fd = None
        if spec.kind.prog_type == ProgType.STRUCT_OPS:
            module_btf_fd = self._set_struct_ops_member(program, attr)
        elif spec.kind.definition.attach_btf:
            module_btf_fd = self._set_attach_btf(program, attr)
        try:
            self._load_with_log(program, attr)
        except LoadError as exc:
            from ..features.requirements import missing_prog_type

            missing = missing_prog_type(spec.kind.prog_type, exc.errno or 0)
            if missing is None:
                raise
            raise LoadError(
                f"load program {program.name} ({program.section}): {missing}",
                program=program.name,
                log=exc.log,
                errno=exc.errno or 0,
            ) from None
        finally:
            if module_btf_fd is not None:
                os.close(module_btf_fd)

    def _set_ext_info(
        self, attr: a.ProgLoadAttr, linked: LinkedProgram, keep_alive: list[object]
    ) -> None:
        func_info = (ctypes.c_uint32 * (2 * len(linked.func_info)))(
            *[v for r in linked.func_info for v in (r.insn_off, r.type_id)]
        )
        line_info = (ctypes.c_uint32 * (4 * len(linked.line_info)))(
            *[
                v
                for r in linked.line_info
                for v in (r.insn_off, r.file_name_off, r.line_off, r.line_col)
            ]
        )
        keep_alive += [func_info, line_info]
        attr.func_info_rec_size = 8
        attr.func_info = ctypes.addressof(func_info)
        attr.func_info_cnt = len(linked.func_info)
        if linked.line_info:
            attr.line_info_rec_size = 16
            attr.line_info = ctypes.addressof(line_info)
            attr.line_info_cnt = len(linked.line_info)

    def _set_struct_ops_member(
        self, program: Program, attr: a.ProgLoadAttr
    ) -> int | None:
        """The kernel table and member a struct_ops program implements."""
        member = self._member_programs.get(program.name)
        if member is None:
            raise LoadError(
                f"program {program.name}: a struct_ops program that no struct_ops map "
                "of the object uses",
                program=program.name,
            )
        attr.attach_btf_id = member.type_id
        attr.expected_attach_type = member.member_index
        if member.btf_name == "vmlinux":
            return None
        attr.attach_btf_obj_fd = kernel_btf_fd(member.btf_name)
        return int(attr.attach_btf_obj_fd)

    def _set_attach_btf(self, program: Program, attr: a.ProgLoadAttr) -> int | None:
        """Set the BTF id of the attach target; returns the fd of the module BTF that
        holds it (close it after the load), None for vmlinux."""
        from ..kernel import btf as kernel_btf
        from .target_program import program_function_btf_id

        spec = program.spec
        assert spec.kind is not None
        target = program.attach_target
        if not target:
            raise LoadError(
                f"program {program.name}: no attach target in section "
                f"{program.section!r}; call set_attach_target()",
                program=program.name,
            )
        if program.attach_program_fd is not None:  # a function of a BPF program
            attr.attach_btf_id = program_function_btf_id(
                program.attach_program_fd, target
            )
            attr.attach_btf_obj_fd = program.attach_program_fd  # attach_prog_fd
            return None
        if spec.kind.prog_type == ProgType.EXT:
            raise LoadError(
                f"program {program.name}: freplace replaces a function of a BPF "
                f"program: call set_attach_target(program, {target!r}) before load",
                program=program.name,
            )
        # As libbpf: "module:function" looks in that module only; a bare name in
        # vmlinux, then in every module's split BTF (/sys/kernel/btf/<module>).
        module, _, name = target.rpartition(":")
        vmlinux = kernel_btf.load_btf_file()
        prog_type, attach_type = spec.kind.prog_type, spec.kind.expected_attach_type
        if not module:
            try:
                attr.attach_btf_id = kernel_btf.attach_btf_id(
                    vmlinux, prog_type, attach_type, name
                )
                return None
            except LoadError:
                pass
        modules = [module] if module else kernel_btf.module_btf_names()
        for candidate in modules:
            try:
                btf = kernel_btf.load_module_btf(candidate, vmlinux)
                btf_id = kernel_btf.attach_btf_id(btf, prog_type, attach_type, name)
            except LoadError as exc:
                if module:
                    msg = f"program {program.name}: {exc}"
                    raise LoadError(msg, program=program.name) from None
                continue
            attr.attach_btf_id = btf_id
            attr.attach_btf_obj_fd = kernel_btf_fd(candidate)
            return int(attr.attach_btf_obj_fd)
        where = f"module {module}" if module else f"vmlinux nor {len(modules)} modules"
        raise LoadError(
            f"program {program.name}: attach target {name!r} is not in the BTF "
            f"of {where}",
            program=program.name,
            errno=errno.ESRCH,
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
                raise self._load_error(
                    program, exc, log.value.decode("utf-8", "replace")
                ) from None

    @staticmethod
    def _load_error(program: Program, exc: OSError, log: str) -> LoadError:
        code = exc.errno or 0
        cls = for_errno(LoadError, code)
        what = "the verifier rejected it" if log else "the kernel refused it"
        tail = f"\n{_log_tail(log)}" if log else ""
        return cls(
            f"load program {program.name} ({program.section}): {what}: "
            f"{describe_errno(code)}{privilege_hint(code)}{tail}",
            program=program.name,
            log=log,
            errno=code,
        )

    def _relocate(self, program: Program, linked: LinkedProgram) -> None:
        insns = linked.insns
        for reloc in linked.relocations:
            at = reloc.insn
            if reloc.kind == RelocKind.MAP_FD:
                target = self._maps_by_offset.get(reloc.offset)
                if target is None:
                    raise LoadError(
                        f"program {program.name}: {reloc.symbol} is not a map",
                        program=program.name,
                    )
                set_src_reg(insns, at, PSEUDO_MAP_FD)
                set_imm(insns, at, target.fd)
            elif reloc.kind == RelocKind.DATA:
                data_map = self.maps.get(reloc.section)
                if data_map is None:
                    raise LoadError(
                        f"program {program.name}: no map for {reloc.section}",
                        program=program.name,
                    )
                offset = get_imm(insns, at) + reloc.offset
                set_src_reg(insns, at, PSEUDO_MAP_VALUE)
                set_imm(insns, at, data_map.fd)
                set_imm(insns, at + 1, offset)
            else:
                self._relocate_extern(program, insns, reloc)

    # -- externs and CO-RE ------------------------------------------------------------

    def _resolve_externs(self) -> None:
        """Values of the __kconfig and __ksym externs, before anything uses them."""
        if not self.spec.externs:
            return
        from ..kernel import btf as kernel_btf
        from ..kernel.kconfig import resolve_kconfig
        from ..kernel.ksyms import read_kallsyms, resolve_ksyms

        externs = self.spec.externs.values()
        kconfig = self.spec.datasecs.get(ExternKind.KCONFIG.value)
        if kconfig is not None:
            data = bytearray(kconfig.size)
            virtual = {
                "LINUX_KERNEL_VERSION": _kernel_version,
                "LINUX_HAS_BPF_COOKIE": lambda: int(program_features.has_bpf_cookie()),
                "LINUX_HAS_SYSCALL_WRAPPER": _has_syscall_wrapper,
            }
            resolve_kconfig(externs, data, virtual, self.kconfig)
            memory = self.memories.get(kconfig.section)
            if memory is not None:
                memory.write(bytes(data))
            else:
                kconfig.data[:] = data
        # ksyms are the running kernel's, whatever BTF CO-RE is told to use
        self.ksyms = resolve_ksyms(
            externs,
            self.spec.btf,
            kernel_btf.load_btf_file,
            self._module_btfs,
            kernel_btf_fd,
            read_kallsyms,
        )

    def _module_btfs(self) -> list[tuple[str, LazyBtf]]:
        from ..kernel import btf as kernel_btf

        if self._modules is None:
            vmlinux = kernel_btf.load_btf_file()
            self._modules = [
                (name, kernel_btf.load_module_btf(name, vmlinux))
                for name in kernel_btf.module_btf_names()
            ]
        return self._modules

    def _apply_core(self, program: Program, linked: LinkedProgram) -> None:
        if not linked.core_relos:
            return
        if self._relocator is None:
            from ..btf.core import Relocator  # CO-RE objects only: loaded when needed
            from ..kernel import btf as kernel_btf

            # libbpf: a user-supplied BTF replaces vmlinux and modules alike
            path = self.custom_btf_path or kernel_btf.VMLINUX_BTF
            self._relocator = Relocator(
                self.spec.btf,
                kernel_btf.load_btf_file(path),
                None if self.custom_btf_path else self._module_btf_list,
            )
        try:
            self._relocator.apply(linked.insns, linked.core_relos)
        except LoadError as exc:
            message = f"program {program.name}: {exc}"
            raise LoadError(message, program=program.name) from None

    def _module_btf_list(self) -> list[LazyBtf]:
        return [btf for _, btf in self._module_btfs()]

    def _relocate_extern(
        self, program: Program, insns: bytearray, reloc: Relocation
    ) -> None:
        """Point an instruction at an extern's value (libbpf's relocate_data)."""
        ext = self.spec.externs.get(reloc.symbol)
        if ext is None:
            raise LoadError(
                f"program {program.name}: {reloc.symbol!r} is an undefined "
                "symbol, not a __kconfig or __ksym extern",
                program=program.name,
            )
        at = reloc.insn
        if ext.kind == ExternKind.KCONFIG:
            set_src_reg(insns, at, PSEUDO_MAP_VALUE)
            set_imm(insns, at, self.maps[ExternKind.KCONFIG.value].fd)
            set_imm(insns, at + 1, ext.offset)
            return
        assert self.ksyms is not None  # resolved: the object has externs
        value = self.ksyms.values[ext.name]
        if reloc.kind == RelocKind.EXTERN_CALL:  # kfunc; 0 if weak and missing
            set_src_reg(insns, at, PSEUDO_KFUNC_CALL)
            set_imm(insns, at, value.btf_id)
            set_off(insns, at, value.fd_index)
        elif ext.type_id and value.btf_id:  # typed: the kernel's variable or function
            set_src_reg(insns, at, PSEUDO_BTF_ID)
            set_imm(insns, at, value.btf_id)
            set_imm(insns, at + 1, value.btf_fd)
        else:  # untyped: its address, 0 if weak and missing
            set_imm(insns, at, value.address)
            set_imm(insns, at + 1, value.address >> 32)


def kernel_btf_fd(name: str) -> int:
    """An fd of the kernel's BTF object ``name`` (``vmlinux`` or a module), found by
    walking the BTF ids as libbpf's load_module_btfs() does."""
    from ..features.requirements import NAMED_KERNEL_BTF

    if not btf_features.has_named_kernel_btf():
        raise LoadError(
            f"find the kernel BTF of {name}: {NAMED_KERNEL_BTF.message()}",
            errno=errno.EOPNOTSUPP,
        )
    btf_id = 0
    name_buf = ctypes.create_string_buffer(64)
    while True:
        try:
            btf_id = cmd.next_id(Cmd.BTF_GET_NEXT_ID, btf_id)
        except OSError as exc:
            if exc.errno == errno.ENOENT:  # past the last id
                break
            raise LoadError(
                f"find the kernel BTF of {name}: {describe_errno(exc.errno or 0)}",
                errno=exc.errno or 0,
            ) from None
        try:
            fd = cmd.fd_by_id(Cmd.BTF_GET_FD_BY_ID, btf_id)
        except OSError:
            continue  # freed meanwhile
        info = a.BpfBtfInfo(name=ctypes.addressof(name_buf), name_len=len(name_buf))
        try:
            cmd.obj_info(fd, info)
        except OSError:
            os.close(fd)
            continue
        if info.kernel_btf and name_buf.value.decode() == name:
            return fd
        os.close(fd)
    raise LoadError(f"the kernel has no BTF object named {name!r}", errno=errno.ENOENT)


def _has_syscall_wrapper() -> int:
    return int(program_features.has_syscall_wrapper())


def _kernel_version() -> int:
    from ..kernel.kconfig import kernel_version

    version = kernel_version()
    if not version:
        raise LoadError("extern LINUX_KERNEL_VERSION: cannot tell the kernel's version")
    return version


def _map_load_error(what: str, exc: OSError, map_type: int | None = None) -> LoadError:
    from ..features.requirements import missing_map_type

    code = exc.errno or 0
    missing = None if map_type is None else missing_map_type(map_type, code)
    if missing is not None:
        return LoadError(f"{what}: {missing}", errno=code)
    cls = for_errno(LoadError, code)
    return cls(f"{what}: {describe_errno(code)}{privilege_hint(code)}", errno=code)


def _ringbuf_size(spec: MapSpec) -> int:
    """The kernel wants a power-of-two multiple of the page size: the smallest one
    above the declared size, as libbpf's ``adjust_ringbuf_sz``.  No size at all is
    an error there too (the kernel refuses 0)."""
    size = spec.max_entries
    if size == 0:
        raise LoadError(
            f"map {spec.name}: a ring buffer needs a size: declare "
            "__uint(max_entries, N) (a power-of-2 multiple of the page size) or "
            "call set_max_entries() before load"
        )
    if size % PAGE_SIZE == 0 and (size // PAGE_SIZE).bit_count() == 1:
        return size
    adjusted = PAGE_SIZE << (size // PAGE_SIZE).bit_length()
    return adjusted if adjusted <= 0xFFFFFFFF else size  # the kernel refuses it


def _prog_flags(flags: SecFlag) -> int:
    out = 0
    if flags & SecFlag.SLEEPABLE:
        out |= ProgFlag.SLEEPABLE
    if flags & SecFlag.XDP_FRAGS:
        out |= ProgFlag.XDP_HAS_FRAGS
    return out
