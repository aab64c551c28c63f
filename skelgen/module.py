"""Assemble the generated module: header, C types, global data, the skeleton class.

The output is black-formatted and depends only on the object's bytes and the
options: the same input gives byte-identical output.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import black
from black.parsing import InvalidInput
from skelgen_runtime.btf import types as bt
from skelgen_runtime.btf.types import VarLinkage
from skelgen_runtime.obj.map_types import (
    FD_VALUE_TYPES,
    INDEX_KEY_TYPES,
    KEYLESS_TYPES,
    map_class_name,
)
from skelgen_runtime.obj.sections import AttachKind
from skelgen_runtime.obj.spec import DatasecSpec, MapSpec, ObjectSpec, ProgramSpec
from skelgen_runtime.uapi.bpf import MapType

from . import __version__, embed
from .ctypes_emit import GeneratorError, TypeEmitter
from .naming import MODULE_RESERVED, Scope, camel_case, comment_text

LICENSE_LINE = "# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)"
# Attributes of the namespaces that map and program names must not shadow.
NAMESPACE_RESERVED = frozenset({"detach_all"})
EVENT_MAP_TYPES = frozenset(
    {MapType.RINGBUF, MapType.PERF_EVENT_ARRAY, MapType.USER_RINGBUF}
)
_EMBED_LINE = 80


@dataclass
class Options:
    source_name: str  # file name shown in the header
    embed: bool = True
    # with embed=False: where open() reads the object unless told (relative: to
    # the module's directory)
    object_path: str | None = None
    extra_types: list[str] = field(default_factory=list)
    all_types: bool = False
    # ring/perf buffer map → C type of its records, for maps without __type(value)
    event_types: dict[str, str] = field(default_factory=dict)
    # a subskeleton: typed access to this library inside a bigger linked object
    subskeleton: bool = False


@dataclass
class Generated:
    """A generated module and the names it gave: ``types.names`` (BTF type id →
    name), ``types.classes`` (class → its members' Python and C names)."""

    source: str
    types: TypeEmitter
    datasec_classes: dict[str, str]  # section → class


def generate(spec: ObjectSpec, elf: bytes, options: Options) -> str:
    return build(spec, elf, options).source


def build(spec: ObjectSpec, elf: bytes, options: Options) -> Generated:
    writer = _ModuleWriter(spec, elf, options)
    try:
        source = black.format_str(writer.source(), mode=black.Mode())
    except InvalidInput as exc:  # a bug in the generator, never the user's input
        where = str(exc).split("\n", 1)[0]
        raise GeneratorError(f"generated code is not valid Python: {where}") from None
    return Generated(source, writer.types, writer.datasec_classes)


class _ModuleWriter:
    def __init__(self, spec: ObjectSpec, elf: bytes, options: Options) -> None:
        self.spec = spec
        self.elf = elf
        self.digest = hashlib.sha256(elf).hexdigest()
        self.options = options
        self.btf = spec.btf
        self.skeleton_name = camel_case(spec.name)
        self.scope = Scope(MODULE_RESERVED)
        for suffix in ("", "Maps", "Progs", "Links", "StructOps"):
            self.scope.claim(self.skeleton_name + suffix)
        self.types = TypeEmitter(self.btf, self.scope)
        self.datasecs = [d for d in spec.datasecs.values() if d.mmapable]
        self.datasec_classes: dict[str, str] = {}  # section → generated class

    # -- what to emit -----------------------------------------------------------------

    def _roots(self) -> list[tuple[int, str]]:
        """The types to emit, each with the name an anonymous one would get."""
        roots: list[tuple[int, str]] = []
        for datasec in self.datasecs:
            roots += [
                (v.type_id, v.name)
                for v in datasec.variables
                if v.linkage != VarLinkage.STATIC
            ]
        for m in self.spec.maps.values():
            if m.datasec is None:
                for type_id, role in (
                    (m.btf_key_type_id, "key"),
                    (self._value_type(m), "value"),
                ):
                    if type_id:
                        roots.append((type_id, f"{m.name}_{role}"))
        for name in self.options.extra_types:
            ids = self.btf.find(name, (bt.Struct, bt.Union, bt.Enum, bt.Typedef))
            if not ids:
                raise GeneratorError(
                    f"--type {name}: no such named type in the object's BTF"
                )
            roots += [(i, name) for i in ids]
        if self.options.all_types:
            roots += [
                (i, t.name)
                for i, t in enumerate(self.btf.types)
                if t.name and isinstance(t, (bt.Struct, bt.Union, bt.Enum, bt.Typedef))
            ]
        return roots

    def source(self) -> str:
        unknown = sorted(set(self.options.event_types) - set(self.spec.maps))
        if unknown:
            raise GeneratorError(
                f"--event-type: the object has no map named {unknown[0]!r}"
            )
        self.types.claim_names()
        # Datasec classes first: an anonymous variable type is named after them.
        datasec_classes = [self._datasec_class(d) for d in self.datasecs]
        for type_id, context in self._roots():
            self.types.ctype(type_id, context)
        maps = self._maps()
        body = "\n\n".join(self.types.blocks)
        skeleton = self._skeleton(datasec_classes, maps)
        sizes = ", ".join(f"{name}: {size}" for name, size in self.types.sizes.items())
        parts = [
            self._header(),
            self._imports(body + skeleton, maps),
            body,
            skeleton,
            f"check_sizes({{{sizes}}})\n",
        ]
        return "\n\n".join(p for p in parts if p)

    # -- pieces -----------------------------------------------------------------------

    def _header(self) -> str:
        name = comment_text(self.options.source_name)
        licence = comment_text(self.spec.license) or "none given"
        kind = "subskeleton" if self.options.subskeleton else "skeleton"
        return "\n".join(
            [
                f"# Generated by skelgen {__version__} from {name}. Do not edit.",
                f"# Object sha256: {self.digest}",
                LICENSE_LINE,
                f"# The BPF object itself is licensed as its license section says: {licence}.",
                f'"""Typed {kind} of {name}: ``from <this module> import {self.skeleton_name}``."""',
                "",
                "from __future__ import annotations",
            ]
        )

    def _imports(self, code: str, maps: list[tuple[str, MapSpec, str]]) -> str:
        base = ["BitField", "CArray", "Struct", "Union", "array", "check_sizes"]
        used = sorted(
            n for n in base if f"{n}(" in code or f"{n}[" in code or f"({n})" in code
        )
        if "check_sizes" not in used:
            used.append("check_sizes")
        # Only the runtime's public names: its internal layout may change.
        names = {*used, *(cls for _, _, cls in maps)}
        names |= {"MapNamespace", "Program", "ProgramNamespace"}
        if self.options.subskeleton:
            names.add("Subskeleton")
        else:
            names |= {"LinkNamespace", "Skeleton", *self._link_classes()}
            if self._struct_ops_maps():
                names.add("StructOpsNamespace")
        lines = ["import ctypes"]
        if self.types.enum_classes:
            lines.append("import enum")
        lines.append("")
        lines.append(f"from skelgen_runtime import {', '.join(sorted(names))}")
        return "\n".join(lines)

    def _link_classes(self) -> list[str]:
        return sorted({"Link"} | {_link_class(p) for p in self.spec.programs.values()})

    def _datasec_class(self, datasec: DatasecSpec) -> tuple[str, str, DatasecSpec]:
        attr = datasec.skeleton_name
        name = self.scope.claim(self.skeleton_name + camel_case(attr))
        self.datasec_classes[datasec.section] = name
        members = [
            (v.name, v.type_id, v.offset * 8, 0)
            for v in datasec.variables
            if v.linkage != VarLinkage.STATIC
        ]
        self.types.emit_class(
            name,
            is_union=False,
            doc=f"{datasec.section} section",
            size=datasec.size,
            members=members,
        )
        return attr, name, datasec

    def _maps(self) -> list[tuple[str, MapSpec, str]]:
        scope = Scope(NAMESPACE_RESERVED)
        out = []
        for m in self.spec.maps.values():
            if m.datasec is not None and not m.datasec.mmapable:
                continue
            attr = m.datasec.skeleton_name if m.datasec is not None else m.name
            out.append((scope.claim(attr), m, map_class_name(m.type)))
        return out

    def _struct_ops_maps(self) -> list[MapSpec]:
        return [m for m in self.spec.maps.values() if m.struct_ops is not None]

    def _map_types(self, m: MapSpec) -> tuple[str, str, str, str]:
        """(key annotation, value annotation, key ctype, value ctype) of a map."""
        if m.struct_ops is not None:  # its value is the kernel's, typed in struct_ops
            return "int", "bytes", "ctypes.c_uint32", "None"
        if m.datasec is not None and self.options.subskeleton:
            return "int", "bytes", "ctypes.c_uint32", "None"  # the linked object's size
        if m.datasec is not None:
            name = self.datasec_classes[m.datasec.section]
            return "int", name, "ctypes.c_uint32", name
        # Without BTF types the runtime still reads indexes and object ids as ints.
        # A perf buffer's records are not its (fd) values: bytes unless --event-type.
        key_ann = "int" if m.type in INDEX_KEY_TYPES and m.key_size == 4 else "bytes"
        value_ann = (
            "int"
            if m.type in FD_VALUE_TYPES - EVENT_MAP_TYPES and m.value_size == 4
            else "bytes"
        )
        key_ct = value_ct = "None"
        if m.btf_key_type_id:
            key_ann = self.types.annotation(m.btf_key_type_id, f"{m.name}_key")
            key_ct = self.types.ctype(m.btf_key_type_id, f"{m.name}_key")
        value_id = self._value_type(m)
        if value_id:
            value_ann = self.types.annotation(value_id, f"{m.name}_value")
            value_ct = self.types.ctype(value_id, f"{m.name}_value")
        return key_ann, value_ann, key_ct, value_ct

    def _value_type(self, m: MapSpec) -> int:
        """The BTF type of a map's values: its ``__type(value)``, or the type that
        ``--event-type`` names for a ring or perf buffer."""
        type_name = self.options.event_types.get(m.name)
        if type_name is None:
            return 0 if m.type == MapType.PERF_EVENT_ARRAY else m.btf_value_type_id
        if m.type not in EVENT_MAP_TYPES:
            raise GeneratorError(
                f"--event-type {m.name}={type_name}: {m.name} is a "
                f"{m.type.name.lower()} map, not a ring or perf buffer"
            )
        ids = self.btf.find(type_name, (bt.Struct, bt.Union, bt.Typedef))
        if not ids:
            raise GeneratorError(
                f"--event-type {m.name}={type_name}: no such named type in the object's BTF"
            )
        return ids[0]

    def _namespaces(
        self,
        maps: list[tuple[str, MapSpec, str]],
        prog_attrs: list[tuple[str, ProgramSpec]],
    ) -> tuple[list[str], list[str]]:
        """The Maps and Progs namespace classes, and the ``_maps_`` table rows."""
        skel = self.skeleton_name
        map_lines, map_table = [], []
        for attr, m, cls in maps:
            key_ann, value_ann, key_ct, value_ct = self._map_types(m)
            generic = (
                f"[{value_ann}]"
                if m.type in KEYLESS_TYPES
                else f"[{key_ann}, {value_ann}]"
            )
            map_lines.append(f"    {attr}: {cls}{generic}  # {m.type.name.lower()}")
            map_table.append(f"        {attr!r}: ({m.name!r}, {key_ct}, {value_ct}),")
        lines = [
            f"class {skel}Maps(MapNamespace):",
            f'    """The maps of {skel}."""',
            "",
        ]
        lines += map_lines or ["    pass"]
        lines += [
            "",
            "",
            f"class {skel}Progs(ProgramNamespace):",
            f'    """The programs of {skel}."""',
            "",
        ]
        lines += [
            f"    {a}: Program  # SEC({comment_text(p.section)})" for a, p in prog_attrs
        ]
        lines += ["" if prog_attrs else "    pass"]
        return lines, map_table

    def _tables(
        self,
        map_table: list[str],
        prog_attrs: list[tuple[str, ProgramSpec]],
        datasec_rows: list[str],
    ) -> list[str]:
        """``_maps_``, ``_programs_`` and ``_datasecs_`` of the class."""
        lines = ["    _maps_ = {", *map_table, "    }", "    _programs_ = {"]
        lines += [f"        {a!r}: {p.name!r}," for a, p in prog_attrs]
        lines += ["    }", "    _datasecs_ = {", *datasec_rows, "    }"]
        return lines

    def _skeleton(
        self,
        datasecs: list[tuple[str, str, DatasecSpec]],
        maps: list[tuple[str, MapSpec, str]],
    ) -> str:
        skel = self.skeleton_name
        programs = Scope(NAMESPACE_RESERVED)
        prog_attrs = [(programs.claim(p.name), p) for p in self.spec.programs.values()]
        lines, map_table = self._namespaces(maps, prog_attrs)
        if self.options.subskeleton:
            return self._subskeleton(lines, map_table, prog_attrs, datasecs)
        # bpftool's skeleton: links.<map> for each struct_ops map, beside programs'
        struct_ops = [
            (
                programs.claim(m.name),
                m,
                self.types.ctype(m.btf_value_type_id, f"{m.name}_value"),
            )
            for m in self._struct_ops_maps()
        ]
        lines += [
            "",
            f"class {skel}Links(LinkNamespace):",
            f'    """The link of each program of {skel}, once attached."""',
            "",
        ]
        link_lines = [f"    {a}: {_link_class(p)} | None" for a, p in prog_attrs]
        link_lines += [f"    {a}: Link | None" for a, _m, _cls in struct_ops]
        lines += link_lines or ["    pass"]
        if struct_ops:
            lines += [
                "",
                "",
                f"class {skel}StructOps(StructOpsNamespace):",
                f'    """The struct_ops tables of {skel}, writable until load."""',
                "",
            ]
            lines += [
                f"    {a}: {cls}  # {_struct_ops_section(m)}"
                for a, m, cls in struct_ops
            ]
        lines += [
            "",
            "",
            f"class {skel}(Skeleton):",
            f'    """Skeleton of {comment_text(self.options.source_name)}."""',
            "",
        ]
        lines += [
            f"    maps: {skel}Maps",
            f"    progs: {skel}Progs",
            f"    links: {skel}Links",
        ]
        if struct_ops:
            lines.append(f"    struct_ops: {skel}StructOps")
        lines += [
            f"    {attr}: {cls}  # {comment_text(d.section)}"
            for attr, cls, d in datasecs
        ]
        lines += ["", f"    _object_name_ = {self.spec.name!r}"]
        lines += self._tables(
            map_table,
            prog_attrs,
            [f"        {attr!r}: ({d.section!r}, {cls})," for attr, cls, d in datasecs],
        )
        if struct_ops:
            lines.append("    _struct_ops_ = {")
            lines += [
                f"        {a!r}: ({m.name!r}, {cls})," for a, m, cls in struct_ops
            ]
            lines += ["    }", f"    _struct_ops_namespace_ = {skel}StructOps"]
        lines.append(f"    _namespaces_ = ({skel}Maps, {skel}Progs, {skel}Links)")
        if self.options.embed:
            stripped = embed.strip_debug(self.elf)
            text = embed.encode(stripped)
            chunks = [
                text[i : i + _EMBED_LINE] for i in range(0, len(text), _EMBED_LINE)
            ]
            lines.append("    _object_data_ = (")
            lines += [f'        b"{c}"' for c in chunks]
            lines.append("    )")
            packed = embed.packed_spec(stripped, self.spec.name)
            if packed is not None:
                lines.append("    _object_spec_ = (")
                lines += [
                    f"        {c}" for c in embed.bytes_literals(packed, _EMBED_LINE)
                ]
                lines.append("    )")
        else:
            lines.append(f"    _object_sha256_ = {self.digest!r}")
            if self.options.object_path is not None:
                lines.append(f"    _object_path_ = {self.options.object_path!r}")
        return "\n".join(lines) + "\n"

    def _subskeleton(
        self,
        lines: list[str],
        map_table: list[str],
        prog_attrs: list[tuple[str, ProgramSpec]],
        datasecs: list[tuple[str, str, DatasecSpec]],
    ) -> str:
        """The class that binds to an object linked with this library."""
        skel = self.skeleton_name
        source = comment_text(self.options.source_name)
        lines += [
            "",
            f"class {skel}(Subskeleton):",
            f'    """Subskeleton of {source}: ``{skel}(obj)`` on the BPFObject or'
            f' skeleton of an object linked with it."""',
            "",
            f"    maps: {skel}Maps",
            f"    progs: {skel}Progs",
        ]
        lines += [
            f"    {attr}: {cls}  # {comment_text(d.section)}"
            for attr, cls, d in datasecs
        ]
        rows = []
        for attr, cls, d in datasecs:
            members = self.types.classes[cls].members
            variables = ", ".join(f"{m.name!r}: {m.c_name!r}" for m in members)
            rows.append(f"        {attr!r}: ({d.section!r}, {cls}, {{{variables}}}),")
        lines += ["", *self._tables(map_table, prog_attrs, rows)]
        lines.append(f"    _namespaces_ = ({skel}Maps, {skel}Progs)")
        return "\n".join(lines) + "\n"


def _struct_ops_section(m: MapSpec) -> str:
    assert m.struct_ops is not None
    return ".struct_ops.link" if m.struct_ops.link else ".struct_ops"


def _link_class(program: ProgramSpec) -> str:
    """What auto-attach stores for a program: iterators get a readable IterLink."""
    if program.kind is not None and program.kind.attach_kind == AttachKind.ITER:
        return "IterLink"
    return "Link"
