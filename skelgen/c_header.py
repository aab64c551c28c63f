"""BTF → a compilable C header: ``vmlinux.h`` without bpftool.

The output follows ``bpftool btf dump file … format c`` (bpftool 7.5+, libbpf's
``btf_dump``), so that programs written against bpftool's header compile against
this one and CO-RE sees the same types:

* types are visited in bpftool's stable order (anonymous enums, named enums,
  base types, structs and unions, function-pointer typedefs, the rest; by name
  within each group) and each is preceded by whatever its definition needs: a
  struct embedded by value is defined first, one reached only through a pointer
  is forward-declared;
* anonymous structs, unions and enums are written in place; names that clash
  (two ``struct foo`` of different layout, an enumerator declared twice) get
  ``___2``, ``___3`` suffixes in the order they are written;
* layout is rebuilt from BTF offsets alone: holes become unnamed bitfields
  (``long: 64;``), a struct whose members or size break natural alignment gets
  ``__attribute__((packed))``, a 1-byte or (32-bit-valued) 8-byte enum a
  ``mode`` attribute;
* everything sits inside ``#pragma clang attribute push
  (__attribute__((preserve_access_index)), apply_to = record)`` unless
  ``BPF_NO_PRESERVE_ACCESS_INDEX`` is defined, and kfuncs (functions with a
  ``bpf_kfunc`` decl tag) are declared ``__weak __ksym`` at the end unless
  ``BPF_NO_KFUNC_PROTOTYPES`` is.

One deliberate difference: bpftool's sorted dump skips the first type of its
order (an anonymous enum when there is one); every type is written here.

Pointers are 8 bytes (BPF's size).  Pure: BTF in, text out.
"""

from __future__ import annotations

from skelgen_runtime.btf import types as bt
from skelgen_runtime.btf.btf import AbstractBtf
from skelgen_runtime.errors import ObjectError

from .c_decl import MODIFIERS as _MODIFIERS, Declarations, tag_keyword
from .ctypes_emit import GeneratorError

POINTER_SIZE = 8

PROLOGUE = """\
#ifndef __VMLINUX_H__
#define __VMLINUX_H__

#ifndef BPF_NO_PRESERVE_ACCESS_INDEX
#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)
#endif

#ifndef __ksym
#define __ksym __attribute__((section(".ksyms")))
#endif

#ifndef __weak
#define __weak __attribute__((weak))
#endif

#ifndef __bpf_fastcall
#if __has_attribute(bpf_fastcall)
#define __bpf_fastcall __attribute__((bpf_fastcall))
#else
#define __bpf_fastcall
#endif
#endif

"""

EPILOGUE = """\
#ifndef BPF_NO_PRESERVE_ACCESS_INDEX
#pragma clang attribute pop
#endif

#endif /* __VMLINUX_H__ */
"""

KFUNC_TAG = "bpf_kfunc"
FASTCALL_TAG = "bpf_fastcall"

# Compiler built-ins that BTF describes but a header must not redefine.
_BUILTIN_TYPEDEFS = frozenset({"__builtin_va_list"})
# Base types gcc's Arm SIMD code refers to through typedefs but never defines.
_MISSING_BASE_TYPES = {
    "__Poly8_t": "unsigned char",
    "__Poly16_t": "unsigned short",
    "__Poly64_t": "unsigned long long",
    "__Poly128_t": "unsigned __int128",
}
# Unnamed-bitfield types that fill holes, widest first.
_PADDING = (("long", POINTER_SIZE * 8), ("int", 32), ("short", 16), ("char", 8))
_MAX_INDENT = 13  # btf_dump's limit on tab indentation

# States of a type while the header is written.
_NOT_DONE, _IN_PROGRESS, _DONE = 0, 1, 2
# Sort ranks (bpftool's btf_type_rank).
_RANK_LAST = 10
_CHAINS = (bt.Ptr, bt.Typedef, *_MODIFIERS)


def c_header(btf: AbstractBtf) -> str:
    """The C header of every type in ``btf`` (``bpftool btf dump … format c``)."""
    return HeaderWriter(btf).header()


def _check_id(type_id: int, ref: int, count: int) -> None:
    if not 0 <= ref < count:
        raise ObjectError(
            f"BTF type {type_id} refers to type {ref}, which does not exist"
        )


def _round_up(value: int, step: int) -> int:
    return -(-value // step) * step


def _indent(lvl: int) -> str:
    return "\t" * min(lvl, _MAX_INDENT)


class HeaderWriter(Declarations):
    """Writes definitions in dependency order, remembering what is written."""

    def __init__(self, btf: AbstractBtf) -> None:
        super().__init__(btf)
        count = len(btf)
        self.out: list[str] = []
        self._ordered = bytearray(count)  # topological-sort state per type
        self._emitted = bytearray(count)  # written state per type
        self._forward_done = bytearray(count)  # forward declaration written
        self._referenced = bytearray(count)  # some other type refers to it
        self._names: dict[int, str] = {}  # type id → name with its ___N suffix
        self._tag_counts: dict[str, int] = {}  # struct/union/enum namespace
        self._ident_counts: dict[str, int] = {}  # typedefs and enumerators
        self._align: dict[int, int] = {}
        self._ordered[0] = self._emitted[0] = _DONE
        self._mark_referenced()

    # -- the whole header ---------------------------------------------------------

    def header(self) -> str:
        self.out.append(PROLOGUE)
        try:
            for type_id in sort_order(self.btf):
                self.dump_type(type_id)
            self._kfuncs()
        except RecursionError:
            raise GeneratorError("BTF types nest too deeply to write as C") from None
        self.out.append(EPILOGUE)
        return "".join(self.out)

    def dump_type(self, type_id: int) -> None:
        """Write ``type_id`` and, before it, every definition it needs."""
        queue: list[int] = []
        self._order(type_id, False, queue)
        for queued in queue:
            self._emit(queued, 0)

    def _kfuncs(self) -> None:
        kfuncs: list[tuple[str, int, int]] = []  # name, FUNC id, FUNC_PROTO id
        fastcalls: set[int] = set()
        for type_id in range(1, len(self.btf)):
            item = self.btf[type_id]
            if not isinstance(item, bt.DeclTag) or item.component_idx != -1:
                continue
            func = self.btf[item.type_id]
            if not isinstance(func, bt.Func):
                continue
            if item.name == KFUNC_TAG:
                kfuncs.append((func.name, item.type_id, func.type_id))
            elif item.name == FASTCALL_TAG:
                fastcalls.add(item.type_id)
        self.out.append("\n/* BPF kfuncs */\n#ifndef BPF_NO_KFUNC_PROTOTYPES\n")
        for name, func_id, proto_id in sorted(kfuncs):
            fastcall = "__bpf_fastcall " if func_id in fastcalls else ""
            decl = self.declaration(proto_id, name)
            self.out.append(f"extern {fastcall}{decl} __weak __ksym;\n")
        self.out.append("#endif\n\n")

    def _mark_referenced(self) -> None:
        """Anonymous enums nobody refers to hold constants and are written at top
        level; referenced ones are written where they are used.  (As in libbpf, a
        function's return type does not count.)  Also checks every reference."""
        referenced = self._referenced
        count = len(referenced)
        for type_id in range(1, count):
            item = self.btf[type_id]
            refs: list[int]
            if isinstance(item, (bt.Struct, bt.Union)):
                refs = [member.type_id for member in item.members]
            elif isinstance(item, bt.FuncProto):
                refs = [param.type_id for param in item.params]
                _check_id(type_id, item.return_type, count)
            elif isinstance(item, bt.Array):
                refs = [item.elem_type, item.index_type]
            elif isinstance(item, bt.Datasec):
                refs = [var.type_id for var in item.vars]
            elif isinstance(item, (*_CHAINS, bt.Func, bt.Var, bt.DeclTag)):
                refs = [item.type_id]
            else:
                continue
            for ref in refs:
                _check_id(type_id, ref, count)
                referenced[ref] = 1

    # -- ordering: what must come before a definition -----------------------------

    def _order(self, type_id: int, through_ptr: bool, queue: list[int]) -> bool:
        """Queue the named definitions ``type_id`` needs, then itself.  True when
        the link to it is strong (it must be defined, a forward declaration will
        not do): it is embedded, or reached through an anonymous type."""
        if self._ordered[type_id] == _DONE:
            return True
        item = self.btf[type_id]
        if self._ordered[type_id] == _IN_PROGRESS:
            if isinstance(item, (bt.Struct, bt.Union)) and through_ptr and item.name:
                return False  # a loop through a pointer: a forward declaration
            raise GeneratorError(f"BTF type {type_id} contains itself")
        if isinstance(item, (bt.Int, bt.Float)):
            self._ordered[type_id] = _DONE
            return False
        if isinstance(item, bt.Ptr):
            strong = self._order(item.type_id, True, queue)
            self._ordered[type_id] = _DONE
            return strong
        if isinstance(item, bt.Array):
            return self._order(item.elem_type, False, queue)
        if isinstance(item, (bt.Struct, bt.Union)):
            if through_ptr and item.name:
                return False
            self._ordered[type_id] = _IN_PROGRESS
            for member in item.members:
                self._order(member.type_id, False, queue)
            if item.name:
                queue.append(type_id)
            self._ordered[type_id] = _DONE
            return True
        if isinstance(item, (bt.Enum, bt.Fwd)):
            if item.name or not self._referenced[type_id]:
                queue.append(type_id)
            self._ordered[type_id] = _DONE
            return True
        if isinstance(item, bt.Typedef):
            strong = self._order(item.type_id, through_ptr, queue)
            if through_ptr and not strong:
                return False
            queue.append(type_id)
            self._ordered[type_id] = _DONE
            return True
        if isinstance(item, _MODIFIERS):
            return self._order(item.type_id, through_ptr, queue)
        if isinstance(item, bt.FuncProto):
            strong = self._order(item.return_type, through_ptr, queue)
            for param in item.params:
                strong = self._order(param.type_id, through_ptr, queue) or strong
            return strong
        # functions, variables, sections and decl tags define nothing here
        self._ordered[type_id] = _DONE
        return False

    # -- emitting: definitions and forward declarations ---------------------------

    def _emit(self, type_id: int, container: int) -> None:
        """Write ``type_id`` at top level (``container`` 0), or the forward
        declarations it needs when it is used inside ``container``."""
        state = self._emitted[type_id]
        if state == _DONE:
            return
        item = self.btf[type_id]
        if state == _IN_PROGRESS:
            self._emit_forward(type_id, item, container)
            return
        top_level = container == 0
        if isinstance(item, bt.Int):
            name = self._tag_name(type_id)
            alias = _MISSING_BASE_TYPES.get(name)
            if alias is not None:
                self.out.append(f"typedef {alias} {name};\n\n")
            self._emitted[type_id] = _DONE
        elif isinstance(item, bt.Enum):
            if top_level:
                self.out.append(self.enum_definition(type_id, item, 0) + ";\n\n")
            self._emitted[type_id] = _DONE
        elif isinstance(item, (bt.Ptr, *_MODIFIERS)):
            self._emit(item.type_id, container)
        elif isinstance(item, bt.Array):
            self._emit(item.elem_type, container)
        elif isinstance(item, bt.Fwd):
            self.out.append(f"{self.tag(type_id, item, 0)};\n\n")
            self._emitted[type_id] = _DONE
        elif isinstance(item, bt.Typedef):
            self._emitted[type_id] = _IN_PROGRESS
            self._emit(item.type_id, type_id)
            # Someone reached this typedef through a pointer while its target was
            # being written: it is already out, as a forward declaration.
            if not self._forward_done[type_id] and item.name not in _BUILTIN_TYPEDEFS:
                self.out.append(self.typedef_definition(type_id, item, 0) + ";\n\n")
            self._emitted[type_id] = _DONE
        elif isinstance(item, (bt.Struct, bt.Union)):
            self._emitted[type_id] = _IN_PROGRESS
            if top_level or not item.name:
                # the members are written out: declare what they point to
                inner = type_id if item.name else container
                for member in item.members:
                    self._emit(member.type_id, inner)
            elif not self._forward_done[type_id] and type_id != container:
                self.out.append(f"{tag_keyword(item)} {self._tag_name(type_id)};\n\n")
                self._forward_done[type_id] = 1
            if top_level:
                self.out.append(self.struct_definition(type_id, item, 0) + ";\n\n")
                self._emitted[type_id] = _DONE
            else:
                self._emitted[type_id] = _NOT_DONE
        elif isinstance(item, bt.FuncProto):
            self._emit(item.return_type, container)
            for param in item.params:
                self._emit(param.type_id, container)

    def _emit_forward(self, type_id: int, item: bt.BtfType, container: int) -> None:
        """``type_id`` is used while it is itself being written."""
        if self._forward_done[type_id]:
            return
        if isinstance(item, (bt.Struct, bt.Union)):
            # A struct pointing to itself needs no declaration; an anonymous
            # one in a loop cannot have one.
            if type_id == container or not item.name:
                return
            self.out.append(f"{tag_keyword(item)} {self._tag_name(type_id)};\n\n")
            self._forward_done[type_id] = 1
        elif isinstance(item, bt.Typedef):
            # Its target is not complete yet, but pointers to it may be used.
            if item.name not in _BUILTIN_TYPEDEFS:
                self.out.append(self.typedef_definition(type_id, item, 0) + ";\n\n")
            self._forward_done[type_id] = 1

    # -- definitions --------------------------------------------------------------

    def struct_definition(
        self, type_id: int, item: bt.Struct | bt.Union, lvl: int
    ) -> str:
        is_struct = isinstance(item, bt.Struct)
        packed = is_struct and self._is_packed(item)
        name = self._tag_name(type_id)
        out = [f"{tag_keyword(item)} {name} {{" if name else f"{tag_keyword(item)} {{"]
        inner = _indent(lvl + 1)
        offset = 0
        prev_bitfield = False
        for member in item.members:
            bits = member.bitfield_size
            align = 1 if packed else self.align_of(member.type_id)
            in_bitfield = prev_bitfield and bits != 0
            self._padding(out, offset, member.bit_offset, align, in_bitfield, inner)
            decl = self.declaration(member.type_id, member.name, lvl + 1)
            if bits:
                out.append(f"\n{inner}{decl}: {bits};")
                offset = member.bit_offset + bits
            else:
                out.append(f"\n{inner}{decl};")
                offset = member.bit_offset + 8 * self._size_of(member.type_id)
            prev_bitfield = bool(bits)
        if is_struct:
            tail_align = self.align_of(type_id)
            self._padding(out, offset, 8 * item.size, tail_align, False, inner)
        # "struct empty {}" stays on one line
        out.append(f"\n{_indent(lvl)}}}" if item.members or item.size else "}")
        if packed:
            out.append(" __attribute__((packed))")
        return "".join(out)

    @staticmethod
    def _padding(
        out: list[str],
        offset: int,
        next_offset: int,
        next_align: int,
        in_bitfield: bool,
        indent: str,
    ) -> None:
        """Fill the hole from bit ``offset`` to ``next_offset`` with unnamed
        bitfields, relying on the compiler's natural alignment where it lands
        exactly where BTF says."""
        if offset >= next_offset:
            return
        # The widest padding type whose alignment boundary is not past the gap.
        pad_type, pad_bits = next(
            ((t, b) for t, b in _PADDING if _round_up(offset, b) <= next_offset),
            _PADDING[-1],
        )
        aligned = _round_up(offset, pad_bits)
        if offset < aligned <= next_offset:
            # An explicit ":0" (or the exact bit count inside a bitfield run) where
            # the compiler would not align by itself: the next member's alignment
            # is weaker than the boundary, or a following "type: N" would fit in
            # the remaining hole and be ignored.
            if (
                in_bitfield
                or (
                    aligned == next_offset
                    and _round_up(offset, max(next_align, 1) * 8) != aligned
                )
                or (
                    aligned != next_offset and next_offset - aligned <= aligned - offset
                )
            ):
                width = aligned - offset if in_bitfield else 0
                out.append(f"\n{indent}{pad_type}: {width};")
            offset = aligned
        while next_offset - offset >= pad_bits:
            out.append(f"\n{indent}{pad_type}: {pad_bits};")
            offset += pad_bits
        if offset != next_offset:
            # the last, partial piece: the narrowest type that holds it
            bits = next_offset - offset
            pad_type = next(t for t, b in reversed(_PADDING) if b >= bits)
            out.append(f"\n{indent}{pad_type}: {bits};")

    def enum_definition(self, type_id: int, item: bt.Enum, lvl: int) -> str:
        name = self._tag_name(type_id)
        head = f"enum {name}" if name else "enum"
        if not item.values:
            return head
        out = [head, " {"]
        indent = _indent(lvl + 1)
        bits = 64 if item.is64 else 32
        suffix = ("LL" if item.signed else "ULL") if item.is64 else ""
        for value in item.values:
            count = self._count(self._ident_counts, value.name)
            label = f"{value.name}___{count}" if count > 1 else value.name
            number = value.value & ((1 << bits) - 1)
            if item.signed and number >> (bits - 1):
                number -= 1 << bits
            out.append(f"\n{indent}{label} = {number}{suffix},")
        out.append(f"\n{_indent(lvl)}}}")
        if item.size == 1:
            out.append(" __attribute__((mode(byte)))")
        elif item.size == 8 and (
            not item.is64 or all(not v.value >> 32 & 0xFFFFFFFF for v in item.values)
        ):
            # an enum is 8 bytes by itself only when a value needs it
            out.append(" __attribute__((mode(word)))")
        return "".join(out)

    def typedef_definition(self, type_id: int, item: bt.Typedef, lvl: int) -> str:
        name = self.typedef_name(type_id)
        if item.type_id == 0 and name == "__gnuc_va_list":
            # old gcc describes it as a typedef of void
            return "typedef __builtin_va_list __gnuc_va_list"
        return "typedef " + self.declaration(item.type_id, name, lvl)

    # -- the declarator's hooks ---------------------------------------------------

    def spell(self, name: str) -> str:
        return name

    def tag(
        self, type_id: int, item: bt.Struct | bt.Union | bt.Enum | bt.Fwd, lvl: int
    ) -> str:
        if not item.name:
            if isinstance(item, bt.Enum):
                return self.enum_definition(type_id, item, lvl)
            if isinstance(item, (bt.Struct, bt.Union)):
                return self.struct_definition(type_id, item, lvl)
        return f"{tag_keyword(item)} {self._tag_name(type_id)}"

    def typedef_name(self, type_id: int) -> str:
        return self._unique_name(type_id, self._ident_counts)

    def type_tag(self, item: bt.TypeTag) -> str:
        if item.kind_flag:  # the tag is an attribute of its own
            return f" __attribute__(({item.name}))"
        return f' __attribute__((btf_type_tag("{item.name}")))'

    # -- names --------------------------------------------------------------------

    def _tag_name(self, type_id: int) -> str:
        return self._unique_name(type_id, self._tag_counts)

    @staticmethod
    def _count(counts: dict[str, int], name: str) -> int:
        count = counts.get(name, 0) + 1
        counts[name] = count
        return count

    def _unique_name(self, type_id: int, counts: dict[str, int]) -> str:
        """The name, suffixed ``___N`` when it is the N-th definition of it;
        fixed when first asked for, so every use agrees with the definition."""
        name = self._names.get(type_id)
        if name is None:
            item = self.btf[type_id]
            name = item.name
            # forward declarations may repeat: they take no number
            if name and not (
                isinstance(item, bt.Fwd)
                or (isinstance(item, bt.Enum) and not item.is64 and not item.values)
            ):
                count = self._count(counts, name)
                if count > 1:
                    name = f"{name}___{count}"
            self._names[type_id] = name
        return name

    # -- layout -------------------------------------------------------------------

    def align_of(self, type_id: int) -> int:
        """Alignment as libbpf infers it (0: not a sized type): a composite whose
        members sit off their alignment, or whose size is not a multiple of it,
        is packed."""
        align = self._align.get(type_id)
        if align is not None:
            return align
        item = self.btf[type_id]
        if isinstance(item, (bt.Int, bt.Enum, bt.Float)):
            align = min(POINTER_SIZE, item.size)
        elif isinstance(item, bt.Ptr):
            align = POINTER_SIZE
        elif isinstance(item, (bt.Typedef, *_MODIFIERS)):
            align = self.align_of(item.type_id)
        elif isinstance(item, bt.Array):
            align = self.align_of(item.elem_type)
        elif isinstance(item, (bt.Struct, bt.Union)):
            align = 1
            for member in item.members:
                m_align = self.align_of(member.type_id)
                if m_align <= 0:
                    align = m_align
                    break
                align = max(align, m_align)
                if not member.bitfield_size and member.bit_offset % (8 * m_align):
                    align = 1
                    break
            else:
                if item.size % align:
                    align = 1
        else:
            align = 0
        self._align[type_id] = align
        return align

    def _is_packed(self, item: bt.Struct | bt.Union) -> bool:
        """Whether a struct needs ``packed`` to get BTF's layout from a compiler."""
        max_align = 1
        for member in item.members:
            align = self.align_of(member.type_id)
            if align and not member.bitfield_size and member.bit_offset % (8 * align):
                return True
            max_align = max(align, max_align)
        return item.size % max_align != 0

    def _size_of(self, type_id: int) -> int:
        """Size in bytes, 0 where it has none (void, functions)."""
        count = 1
        for _ in range(len(self.btf)):
            item = self.btf[type_id]
            if isinstance(item, (bt.Int, bt.Struct, bt.Union, bt.Enum, bt.Float)):
                return count * item.size
            if isinstance(item, bt.Ptr):
                return count * POINTER_SIZE
            if isinstance(item, bt.Array):
                count *= item.nelems
                type_id = item.elem_type
            elif isinstance(item, (*_CHAINS, bt.Var, bt.DeclTag)):
                type_id = item.type_id
            else:
                return 0
        return 0


# -- bpftool's order --------------------------------------------------------------


def sort_order(btf: AbstractBtf) -> list[int]:
    """Type ids in the order bpftool dumps them: by rank (:func:`_rank`), then by
    the name of what they stand for, then by their own name; ties by a hash of
    names and members, then by id.  The order depends on names, not on ids, so
    it changes little from one kernel build to the next."""
    keys = [
        (_rank(btf, type_id, False), _sort_name(btf, type_id, False), btf[type_id].name)
        for type_id in range(len(btf))
    ]
    groups: dict[tuple[int, str, str], int] = {}
    for key in keys:
        groups[key] = groups.get(key, 0) + 1
    hashes = _TieBreaker(btf)
    order = sorted(
        range(1, len(btf)),
        key=lambda i: (
            *keys[i],
            hashes.of(i, True) if groups[keys[i]] > 1 else 0,
            i,
        ),
    )
    return order


def _rank(btf: AbstractBtf, type_id: int, has_name: bool) -> int:
    """0 anonymous enums (constants), 1 named enums, 2 base types, 3 structs and
    unions, 4 function-prototype typedefs, 10 the rest; a named chain of
    typedefs, modifiers and arrays ranks as what it ends in."""
    item = btf[type_id]
    has_name = has_name or bool(item.name)
    if isinstance(item, bt.Enum):
        return 1 if has_name else 0
    if isinstance(item, (bt.Int, bt.Float)):
        return 2
    if not has_name:
        return _RANK_LAST
    if isinstance(item, (bt.Struct, bt.Union)):
        return 3
    if isinstance(item, bt.FuncProto):
        return 4
    if isinstance(item, bt.Array):
        return _rank(btf, item.elem_type, True)
    if isinstance(item, (*_CHAINS, bt.DeclTag)):
        return _rank(btf, item.type_id, True)
    return _RANK_LAST


def _sort_name(btf: AbstractBtf, type_id: int, from_ref: bool) -> str:
    """The name a type sorts by: its own, the one at the end of its chain, or
    for an anonymous enum its first enumerator's."""
    item = btf[type_id]
    if isinstance(item, bt.Enum):
        if not from_ref and not item.name and item.values:
            return item.values[0].name
        return item.name
    if isinstance(item, bt.Array):
        return _sort_name(btf, item.elem_type, True)
    if isinstance(item, (*_CHAINS, bt.DeclTag)):
        return _sort_name(btf, item.type_id, True)
    return item.name


_MASK64 = (1 << 64) - 1


class _TieBreaker:
    """bpftool's tie-breaker between types of equal rank and names: a hash of the
    names (and, at the top, member names and types) a type is made of; hashes
    of names and of member types are remembered, vmlinux repeats them a lot."""

    def __init__(self, btf: AbstractBtf) -> None:
        self.btf = btf
        self._names: dict[str, int] = {"": 0}
        self._types: dict[tuple[int, bool], int] = {}

    def _name(self, value: int, name: str) -> int:
        """Mix in libbpf's ``str_hash`` of a name; an empty name adds nothing."""
        if not name:
            return value
        text_hash = self._names.get(name)
        if text_hash is None:
            text_hash = 0
            for byte in name.encode():  # C's char is signed
                text_hash = (
                    text_hash * 31 + (byte - 256 if byte > 127 else byte)
                ) & _MASK64
            self._names[name] = text_hash
        return (value * 31 + text_hash) & _MASK64

    def of(self, type_id: int, members: bool) -> int:
        value = self._types.get((type_id, members))
        if value is not None:
            return value
        item = self.btf[type_id]
        value = self._name(0, item.name)
        if isinstance(item, bt.Enum):
            for enumerator in item.values:
                value = self._name(value, enumerator.name)
        elif isinstance(item, (bt.Struct, bt.Union)):
            if members:
                for member in item.members:
                    value = self._name(value, member.name)
                    value = (value * 31 + self.of(member.type_id, False)) & _MASK64
        elif isinstance(item, (*_CHAINS, bt.DeclTag)):
            value = (value * 31 + self.of(item.type_id, members)) & _MASK64
        elif isinstance(item, bt.Array):
            value = (value * 31 + item.nelems) & _MASK64
            value = (value * 31 + self.of(item.elem_type, members)) & _MASK64
        self._types[type_id, members] = value
        return value
