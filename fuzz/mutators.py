"""Structure-aware mutations of a BPF object, each a function ``(elf, rng) -> None``.

A mutant is a seed plus a list of *steps* ``(mutator name, step seed)``: every step
draws from its own ``random.Random(step seed)``, so a mutant is rebuilt exactly from
its steps, and any subset of them can be replayed (delta debugging).

The mutators know ELF (section table, symbols, relocations, string tables), BTF
(records, type ids, ``vlen``, ``kind_flag``, bitfield offsets, sizes, strings),
``.BTF.ext`` (records, CO-RE access strings) and BTF-defined maps; they aim at what
readers get wrong: cycles, self-containing types, deep chains, size bombs, lying
counts, and names no compiler emits.
"""

from __future__ import annotations

import random
import struct
from collections.abc import Callable

from .model import (
    ARRAY,
    DATASEC,
    E_SHENTSIZE,
    E_SHNUM,
    E_SHOFF,
    E_SHSTRNDX,
    EXT_HEADER,
    INT,
    REF_KINDS,
    REL,
    SH_ADDRALIGN,
    SH_FLAGS,
    SH_INFO,
    SH_LINK,
    SH_NAME,
    SH_OFFSET,
    SH_SIZE,
    SH_TYPE,
    SHT_NOBITS,
    SHT_REL,
    SHT_SYMTAB,
    STRUCT,
    SYM,
    TYPEDEF,
    UNION,
    Btf,
    Elf,
    ext_records,
    kind_of,
    pack,
    vlen_of,
)

Mutator = Callable[[Elf, random.Random], None]
Step = tuple[str, str]  # (mutator name, seed of its Random)

INTERESTING_32 = [
    0,
    1,
    2,
    3,
    4,
    7,
    8,
    15,
    16,
    31,
    32,
    63,
    64,
    127,
    128,
    255,
    256,
    4095,
    4096,
    0xFFFF,
    0x10000,
    1 << 24,
    (1 << 24) - 1,
    (1 << 31) - 1,
    1 << 31,
    (1 << 32) - 1,
]
INTERESTING_64 = [*INTERESTING_32, 1 << 32, (1 << 32) + 8, 1 << 40, 1 << 62, 1 << 63]
INTERESTING_64.append((1 << 64) - 1)

HOSTILE_NAMES: list[bytes] = [
    b"a\nb",
    b"new\r\nline",
    b'x"y',
    b"it's",
    b"'''",
    b'"""',
    b'"""; import os; os.system("id"); """',
    b"'); import os; ('",
    b"\\",
    b"back\\slash\\n",
    "caf\u00e9".encode(),
    "\u2028line\u2029sep".encode(),
    "\u202eevil".encode(),
    "\U0001f600".encode(),
    b"\xff\xfe bad utf8",
    b"\x80",
    b"class",
    b"None",
    b"import",
    b"lambda",
    b"__init__",
    b"__class__",
    b"__import__",
    b"_fields_",
    b"_pack_",
    b"ctypes",
    b"enum",
    b"Struct",
    b"Skeleton",
    b"check_sizes",
    b"self",
    b"0digit",
    b"",
    b" ",
    b"a b",
    b"{x}",
    b"%s%n",
    b"#comment",
    b"a" * 300,
    b"A" * 70_000,
    "\u00e9".encode() * 5000,
    b".",
    b"..",
    b"../../etc/passwd",
    b"/abs/path",
    b"\t\x0b\x0c",
    b"\x1b[31mred",
]

SECTION_NAMES: list[bytes] = [
    b".bss",
    b".data",
    b".rodata",
    b".data.x",
    b".rodata.x",
    b".maps",
    b".kconfig",
    b".ksyms",
    b"license",
    b"version",
    b".text",
    b".BTF",
    b".BTF.ext",
    b".symtab",
    b"xdp",
    b"tc",
    b"kprobe/x",
    b"uprobe//bin/true:main",
    b"tp/syscalls/sys_enter_getpid",
    b"tp_btf/sched_switch",
    b"fentry/x",
    b"struct_ops/x",
    b"iter/task",
    b"syscall",
    b"?xdp",
    b"usdt/x",
    b"socket",
    b"",
]


def _pick(rng: random.Random, values: list[int], current: int | None = None) -> int:
    """One of ``values``, or ``current`` stepped a little; within the width of the
    field ``values`` are for."""
    limit = (1 << 64) - 1 if max(values) >= 1 << 32 else (1 << 32) - 1
    if current is not None and rng.random() < 0.25:
        return max(0, current + rng.choice((-1, 1, 8, -8))) & limit
    return rng.choice(values)


def _name(rng: random.Random) -> bytes:
    return rng.choice(HOSTILE_NAMES)


# -- ELF --------------------------------------------------------------------------------


def _section(elf: Elf, rng: random.Random) -> int:
    return rng.randrange(1, len(elf.sections)) if len(elf.sections) > 1 else 0


def shdr_field(elf: Elf, rng: random.Random) -> None:
    """Any section header field after layout (offsets, sizes, links, alignment)."""
    index = _section(elf, rng)
    field = rng.choice(
        [SH_NAME, SH_TYPE, SH_FLAGS, SH_OFFSET, SH_SIZE, SH_LINK, SH_INFO, SH_ADDRALIGN]
    )
    elf.post_shdr[(index, field)] = _pick(rng, INTERESTING_64)
    if field in (SH_NAME, SH_TYPE, SH_LINK, SH_INFO):
        elf.post_shdr[(index, field)] &= 0xFFFFFFFF


def size_bomb(elf: Elf, rng: random.Random) -> None:
    """A small file that claims gigabytes: a huge NOBITS section, or a huge size,
    offset or alignment in a section header."""
    big = rng.choice([1 << 24, 1 << 28, 1 << 31, 1 << 32, 1 << 40, 1 << 62, 1 << 63])
    big += rng.choice([0, 0, 1, 8, -1 if big > 1 else 0])
    bss = elf.find(b".bss")
    choice = rng.randrange(4)
    if choice == 0 and bss > 0:
        elf.sections[bss].header[SH_SIZE] = big
        return
    index = _section(elf, rng)
    field = [SH_SIZE, SH_OFFSET, SH_ADDRALIGN, SH_SIZE][choice]
    if choice == 3:  # make any section NOBITS and large
        elf.sections[index].header[SH_TYPE] = SHT_NOBITS
        elf.sections[index].header[SH_SIZE] = big
        return
    elf.post_shdr[(index, field)] = big


def ehdr_field(elf: Elf, rng: random.Random) -> None:
    """The ELF header's section-table fields, machine, class and byte order."""
    choice = rng.randrange(6)
    if choice == 0:
        elf.post_ehdr[E_SHOFF] = _pick(rng, INTERESTING_64)
    elif choice == 1:
        elf.post_ehdr[E_SHNUM] = _pick(rng, INTERESTING_32) & 0xFFFF
    elif choice == 2:
        elf.post_ehdr[E_SHSTRNDX] = _pick(rng, INTERESTING_32) & 0xFFFF
    elif choice == 3:
        elf.post_ehdr[E_SHENTSIZE] = rng.choice([0, 1, 40, 63, 65, 128, 0xFFFF])
    elif choice == 4:
        elf.ehdr[1] = rng.choice([0, 3, 62, 247, 0xFFFF])  # e_machine
    else:
        ident = bytearray(elf.ident)
        ident[rng.choice([4, 5, 6])] = rng.choice([0, 1, 2, 3, 255])
        elf.ident = bytes(ident)


def truncate(elf: Elf, rng: random.Random) -> None:
    """The file cut short anywhere (inside a section, the section table...)."""
    size = len(elf.to_bytes())
    elf.truncate = max(
        0, rng.choice([rng.randrange(size + 1), size - 1, size - 64, 64, 4])
    )


def section_type(elf: Elf, rng: random.Random) -> None:
    """Swap PROGBITS/NOBITS/REL/SYMTAB..., or flip ALLOC/WRITE/EXECINSTR."""
    section = elf.sections[_section(elf, rng)]
    if rng.random() < 0.5:
        section.header[SH_TYPE] = rng.choice([0, 1, 2, 3, 4, 8, 9, 11, 0x6FFFFFF5])
    else:
        section.header[SH_FLAGS] ^= rng.choice([0x1, 0x2, 0x4, 0x6])


def rename_section(elf: Elf, rng: random.Random) -> None:
    """A section renamed: to a name the reader gives meaning to, or hostile text."""
    index = _section(elf, rng)
    if rng.random() < 0.5:
        name = rng.choice(SECTION_NAMES)
    else:
        prefix = rng.choice([b"", b"kprobe/", b"xdp/", b".data.", b".rodata.", b"tp/"])
        name = prefix + _name(rng)
    elf.sections[index].header[SH_NAME] = elf.add_string(elf.shstrndx, name)


def duplicate_section(elf: Elf, rng: random.Random) -> None:
    """A second section of the same name and contents (two ``.maps``, two
    programs in one section name...)."""
    index = _section(elf, rng)
    original = elf.sections[index]
    elf.sections.append(type(original)(list(original.header), original.data))


def havoc(elf: Elf, rng: random.Random) -> None:
    """A few bytes of a random section set to 0, 0xff, 0x7f, 0x80 or anything."""
    index = _section(elf, rng)
    data = bytearray(elf.sections[index].data)
    if not data:
        return
    for _ in range(rng.randint(1, 8)):
        at = rng.randrange(len(data))
        data[at] = rng.choice([0, 0xFF, 0x7F, 0x80, rng.randrange(256)])
    elf.sections[index].data = bytes(data)


def empty_section(elf: Elf, rng: random.Random) -> None:
    """A section without contents (symbols and relocations still point into it)."""
    elf.set_data(_section(elf, rng), b"")


def _symtab(elf: Elf) -> int:
    for i, s in enumerate(elf.sections):
        if s.type == SHT_SYMTAB:
            return i
    return -1


def _symbols(elf: Elf) -> tuple[int, list[list[int]]]:
    index = _symtab(elf)
    if index < 0:
        return -1, []
    data = elf.sections[index].data
    return index, [list(s) for s in SYM.iter_unpack(data[: len(data) // 24 * 24])]


def _set_symbols(elf: Elf, index: int, symbols: list[list[int]]) -> None:
    elf.set_data(index, b"".join(pack(SYM, s) for s in symbols))


def symbol(elf: Elf, rng: random.Random) -> None:
    """One field of one symbol: name, type/binding, section, value, size."""
    index, symbols = _symbols(elf)
    if not symbols:
        return
    sym = symbols[rng.randrange(len(symbols))]
    field = rng.choice([0, 1, 3, 4, 5])
    if field == 0:
        strtab = elf.sections[index].header[SH_LINK]
        if strtab < len(elf.sections):
            sym[0] = elf.add_string(strtab, _name(rng))
    elif field == 1:
        sym[1] = rng.randrange(256)
    elif field == 3:
        sym[3] = rng.choice([0, 1, len(elf.sections), 0xFFF1, 0xFFF2, 0xFFFF])
        sym[3] = rng.choice([sym[3], rng.randrange(len(elf.sections))])
    else:
        sym[field] = _pick(rng, INTERESTING_64, sym[field])
    _set_symbols(elf, index, symbols)


def reloc(elf: Elf, rng: random.Random) -> None:
    """One relocation: its offset, symbol index or type."""
    rels = [i for i, s in enumerate(elf.sections) if s.type == SHT_REL and s.data]
    if not rels:
        return
    index = rng.choice(rels)
    entries = [list(r) for r in REL.iter_unpack(elf.sections[index].data)]
    if not entries:
        return
    entry = entries[rng.randrange(len(entries))]
    choice = rng.randrange(3)
    if choice == 0:
        entry[0] = _pick(rng, INTERESTING_64, entry[0])
    elif choice == 1:
        sym = _pick(rng, INTERESTING_32, entry[1] >> 32)
        entry[1] = (sym << 32) | (entry[1] & 0xFFFFFFFF)
    else:
        entry[1] = (entry[1] & ~0xFFFFFFFF) | _pick(rng, INTERESTING_32)
    elf.set_data(index, b"".join(pack(REL, e) for e in entries))


def license_text(elf: Elf, rng: random.Random) -> None:
    """The licence: hostile text, no NUL, not ASCII, empty."""
    index = elf.find(b"license")
    if index > 0:
        text = rng.choice([_name(rng) + b"\0", b"GPL", b"", b"\xff\xfe\0", b"GPL\nx\0"])
        elf.set_data(index, text)


def rename_symbol_and_var(elf: Elf, rng: random.Random) -> None:
    """A global, map or program renamed consistently where it is named (symbol and
    BTF VAR/FUNC), so that the hostile name reaches the generated module."""
    index, symbols = _symbols(elf)
    btf_index = elf.find(b".BTF")
    if not symbols or btf_index < 0:
        return
    btf = Btf.parse(elf.sections[btf_index].data)
    strtab = elf.sections[index].header[SH_LINK]
    if btf is None or strtab >= len(elf.sections):
        return
    names = elf.sections[strtab].data
    named = [s for s in symbols if s[0] and (s[1] & 0xF) in (0, 1, 2)]
    if not named:
        return
    sym = rng.choice(named)
    old = names[sym[0] : names.find(b"\0", sym[0])]
    new = _name(rng)
    sym[0] = elf.add_string(strtab, new)
    _set_symbols(elf, index, symbols)
    for record in btf.records:
        if kind_of(record[1]) in (12, 14) and _btf_string(btf, record[0]) == old:
            record[0] = btf.add_string(new)
    elf.set_data(btf_index, btf.to_bytes())


def rename_datasec(elf: Elf, rng: random.Random) -> None:
    """A ``.data``/``.rodata`` section and its DATASEC renamed alike."""
    btf_index = elf.find(b".BTF")
    if btf_index < 0:
        return
    btf = Btf.parse(elf.sections[btf_index].data)
    if btf is None:
        return
    datasecs = [r for r in btf.records if kind_of(r[1]) == DATASEC]
    if not datasecs:
        return
    record = rng.choice(datasecs)
    old = _btf_string(btf, record[0])
    new = rng.choice([b".data.", b".rodata.", b".bss."]) + _name(rng)
    section = elf.find(old)
    if section > 0:
        elf.sections[section].header[SH_NAME] = elf.add_string(elf.shstrndx, new)
    record[0] = btf.add_string(new)
    elf.set_data(btf_index, btf.to_bytes())


# -- BTF --------------------------------------------------------------------------------


def _btf_string(btf: Btf, offset: int) -> bytes:
    end = btf.strings.find(b"\0", offset)
    return btf.strings[offset:end] if end >= 0 else btf.strings[offset:]


def _btf_mutator(body: Callable[[Btf, random.Random], None]) -> Mutator:
    def mutate(elf: Elf, rng: random.Random) -> None:
        index = elf.find(b".BTF")
        if index < 0:
            return
        btf = Btf.parse(elf.sections[index].data)
        if btf is None or not btf.records:
            return
        body(btf, rng)
        elf.set_data(index, btf.to_bytes())

    mutate.__doc__ = body.__doc__
    return mutate


def _records(btf: Btf, kinds: tuple[int, ...]) -> list[int]:
    return [i + 1 for i, r in enumerate(btf.records) if kind_of(r[1]) in kinds]


def _type_id(btf: Btf, rng: random.Random, near: int) -> int:
    n = len(btf.records)
    return rng.choice(
        [near, near, rng.randint(0, n), rng.randint(0, n), n + 1, 1 << 31, 0xFFFFFFFF]
    )


def _btf_header(btf: Btf, rng: random.Random) -> None:
    """A header field: magic, version, hdr_len, type/string offsets and lengths."""
    field = rng.randrange(8)
    btf.post_header[field] = _pick(rng, INTERESTING_32) & (
        0xFFFF if field == 0 else 0xFF if field in (1, 2) else 0xFFFFFFFF
    )


def _btf_kind(btf: Btf, rng: random.Random) -> None:
    """A record changes kind (its words stay): every later record is misread."""
    record = rng.choice(btf.records)
    record[1] = (record[1] & ~(0x1F << 24)) | (rng.randrange(32) << 24)


def _btf_vlen(btf: Btf, rng: random.Random) -> None:
    """``vlen`` lies, or members are really added or removed."""
    record = rng.choice(btf.records)
    vlen = vlen_of(record[1])
    if rng.random() < 0.5:
        new = rng.choice([0, 1, vlen + 1, max(vlen - 1, 0), 0xFFFF])
        record[1] = (record[1] & ~0xFFFF) | new
    elif kind_of(record[1]) in (STRUCT, UNION, 6, 13, DATASEC, 19) and len(record) > 3:
        per_item = (len(record) - 3) // max(vlen, 1)
        if per_item and rng.random() < 0.5:
            record += record[3 : 3 + per_item] * rng.choice([1, 2, 100])
        else:
            del record[3 : 3 + per_item]
        vlen = (len(record) - 3) // max(per_item, 1)
        record[1] = (record[1] & ~0xFFFF) | (vlen & 0xFFFF)


def _btf_kind_flag(btf: Btf, rng: random.Random) -> None:
    """``kind_flag`` flipped: member offsets read as bitfields, or the reverse;
    enums signed; FWDs unions."""
    record = rng.choice(btf.records)
    record[1] ^= 1 << 31


def _btf_type_ref(btf: Btf, rng: random.Random) -> None:
    """A type id anywhere: itself, a neighbour, void, one past the end, huge."""
    type_id = rng.randint(1, len(btf.records))
    refs = btf.type_refs(type_id)
    if refs:
        btf.records[type_id - 1][rng.choice(refs)] = _type_id(btf, rng, type_id)


def _btf_cycle(btf: Btf, rng: random.Random) -> None:
    """Typedefs, modifiers, pointers and arrays that refer to each other in a loop."""
    candidates = _records(btf, (*REF_KINDS, ARRAY))
    if not candidates:
        return
    ring = rng.sample(candidates, min(len(candidates), rng.choice([1, 1, 2, 3])))
    for a, b in zip(ring, ring[1:] + ring[:1], strict=True):
        record = btf.records[a - 1]
        at = 3 if kind_of(record[1]) == ARRAY else 2
        if at < len(record):
            record[at] = b


def _btf_self_contain(btf: Btf, rng: random.Random) -> None:
    """A struct or union that contains itself: directly, through a typedef, const
    or array, or through a second struct that contains the first."""
    composites = [
        i for i in _records(btf, (STRUCT, UNION)) if vlen_of(btf.records[i - 1][1])
    ]
    if not composites:
        return
    outer = rng.choice(composites)
    record = btf.records[outer - 1]
    member = 3 + 3 * rng.randrange(vlen_of(record[1])) + 1
    if member >= len(record):
        return
    via = rng.randrange(4)
    if via == 0:
        record[member] = outer
    elif via == 1:
        kind = rng.choice([TYPEDEF, 10, 9])
        name = btf.add_string(b"loop_t") if kind == TYPEDEF else 0
        record[member] = btf.add([name, kind << 24, outer])
    elif via == 2:
        record[member] = btf.add([0, ARRAY << 24, 0, outer, 1, rng.choice([1, 2, 0])])
    else:
        other = rng.choice(composites)
        other_record = btf.records[other - 1]
        at = 3 + 3 * rng.randrange(vlen_of(other_record[1])) + 1
        if at < len(other_record):
            record[member] = other
            other_record[at] = outer


def _btf_deep_chain(btf: Btf, rng: random.Random) -> None:
    """A long chain (typedefs, consts, arrays or nested structs) that something
    refers to: recursion depth bombs."""
    depth = rng.choice([40, 100, 300, 1000, 5000])
    ints = _records(btf, (INT,))
    bottom = ints[0] if ints else 0
    kind = rng.choice([TYPEDEF, 10, ARRAY, STRUCT, 2])
    name = btf.add_string(b"deep")
    head = bottom
    for _ in range(depth):
        if kind == ARRAY:
            head = btf.add([0, ARRAY << 24, 0, head, bottom, 1])
        elif kind == STRUCT:
            head = btf.add([name, (STRUCT << 24) | 1, 4, name, head, 0])
        else:
            head = btf.add([name if kind == TYPEDEF else 0, kind << 24, head])
    targets = [i for i in range(1, len(btf.records) - depth + 1) if btf.type_refs(i)]
    if targets:
        type_id = rng.choice(targets)
        refs = btf.type_refs(type_id)
        btf.records[type_id - 1][rng.choice(refs)] = head


def _btf_size(btf: Btf, rng: random.Random) -> None:
    """The size of a struct, union, int, enum, float or DATASEC."""
    sized = _records(btf, (INT, STRUCT, UNION, 6, DATASEC, 16, 19))
    if sized:
        record = btf.records[rng.choice(sized) - 1]
        record[2] = _pick(rng, INTERESTING_32, record[2])


def _btf_member_offset(btf: Btf, rng: random.Random) -> None:
    """A member's bit offset (and, with kind_flag, bitfield size)."""
    composites = [
        i for i in _records(btf, (STRUCT, UNION)) if vlen_of(btf.records[i - 1][1])
    ]
    if not composites:
        return
    record = btf.records[rng.choice(composites) - 1]
    at = 3 + 3 * rng.randrange(vlen_of(record[1])) + 2
    if at < len(record):
        if rng.random() < 0.3:
            record[1] |= 1 << 31
            record[at] = (rng.randrange(256) << 24) | rng.randrange(1 << 12)
        else:
            record[at] = _pick(rng, INTERESTING_32, record[at])


def _btf_int(btf: Btf, rng: random.Random) -> None:
    """An INT's encoding, bit offset and bits."""
    ints = _records(btf, (INT,))
    if ints:
        record = btf.records[rng.choice(ints) - 1]
        if len(record) > 3:
            encoding = rng.randrange(16)
            record[3] = (
                (encoding << 24) | (rng.randrange(256) << 16) | rng.randrange(256)
            )


def _btf_array(btf: Btf, rng: random.Random) -> None:
    """An array's element count (a map's ``__uint()`` values are array sizes)."""
    arrays = _records(btf, (ARRAY,))
    if arrays:
        record = btf.records[rng.choice(arrays) - 1]
        if len(record) > 5:
            record[5] = _pick(rng, [*INTERESTING_32, 1 << 20, 1 << 28], record[5])


def _btf_name(btf: Btf, rng: random.Random) -> None:
    """A name: hostile text, out of the string section, or inside another string."""
    type_id = rng.randint(1, len(btf.records))
    refs = btf.name_refs(type_id)
    at = rng.choice(refs)
    choice = rng.randrange(4)
    record = btf.records[type_id - 1]
    if choice < 2:
        record[at] = btf.add_string(_name(rng))
    elif choice == 2:
        record[at] = rng.choice([len(btf.strings), len(btf.strings) + 100, 0xFFFFFFFF])
    else:
        record[at] = rng.randrange(max(len(btf.strings), 1))


def _btf_strings(btf: Btf, rng: random.Random) -> None:
    """The string section: no final NUL, invalid UTF-8, cut short."""
    choice = rng.randrange(3)
    if choice == 0:
        btf.strings = btf.strings.rstrip(b"\0") + b"x"
    elif choice == 1 and btf.strings:
        at = rng.randrange(len(btf.strings))
        btf.strings = btf.strings[:at] + b"\xff\xc3" + btf.strings[at + 1 :]
    else:
        btf.strings = btf.strings[: rng.randrange(len(btf.strings) + 1)]


def _btf_datasec(btf: Btf, rng: random.Random) -> None:
    """A DATASEC variable's offset or size (offsets ≥ 2^32 come from symbols)."""
    datasecs = [i for i in _records(btf, (DATASEC,)) if vlen_of(btf.records[i - 1][1])]
    if datasecs:
        record = btf.records[rng.choice(datasecs) - 1]
        at = 3 + 3 * rng.randrange(vlen_of(record[1])) + rng.choice([1, 2])
        if at < len(record):
            record[at] = _pick(rng, INTERESTING_32, record[at])


def _btf_linkage(btf: Btf, rng: random.Random) -> None:
    """VAR linkage, FUNC linkage (its vlen), DECL_TAG component index."""
    candidates = _records(btf, (14, 12, 17))
    if candidates:
        record = btf.records[rng.choice(candidates) - 1]
        value = _pick(rng, [0, 1, 2, 3, 4, 0xFFFF, 0xFFFFFFFF])
        if kind_of(record[1]) == 12:
            record[1] = (record[1] & ~0xFFFF) | (value & 0xFFFF)
        elif len(record) > 3:
            record[3] = value


def _btf_enum(btf: Btf, rng: random.Random) -> None:
    """An enum's size or one of its values."""
    enums = [i for i in _records(btf, (6, 19)) if vlen_of(btf.records[i - 1][1])]
    if enums:
        record = btf.records[rng.choice(enums) - 1]
        if rng.random() < 0.5:
            record[2] = rng.choice([0, 1, 2, 3, 4, 8, 16, 0xFFFFFFFF])
        else:
            per = 2 if kind_of(record[1]) == 6 else 3
            at = 3 + per * rng.randrange(vlen_of(record[1])) + 1
            if at < len(record):
                record[at] = _pick(rng, INTERESTING_32)


def _btf_duplicate(btf: Btf, rng: random.Random) -> None:
    """A copy of a record appended: a second type of the same name and kind."""
    record = rng.choice(btf.records)
    btf.add(list(record))


def _btf_swap(btf: Btf, rng: random.Random) -> None:
    """Two records trade places: every reference to them now means the other."""
    if len(btf.records) > 1:
        a, b = rng.sample(range(len(btf.records)), 2)
        btf.records[a], btf.records[b] = btf.records[b], btf.records[a]


def _map_attribute(btf: Btf, rng: random.Random) -> None:
    """A BTF-defined map's ``__uint()`` attribute: type, max_entries, flags,
    key/value size, pinning..."""
    maps = [
        r
        for r in btf.records
        if kind_of(r[1]) == DATASEC and _btf_string(btf, r[0]) == b".maps"
    ]
    arrays = []
    for datasec in maps:
        for k in range(vlen_of(datasec[1])):
            if 3 + 3 * k >= len(datasec):
                break
            var = datasec[3 + 3 * k]
            if not 0 < var <= len(btf.records):
                continue
            definition = btf.records[var - 1][2]
            if not 0 < definition <= len(btf.records):
                continue
            struct_record = btf.records[definition - 1]
            if kind_of(struct_record[1]) != STRUCT:
                continue
            for m in range(vlen_of(struct_record[1])):
                at = 3 + 3 * m + 1
                if at >= len(struct_record):
                    break
                ptr = struct_record[at]
                if (
                    0 < ptr <= len(btf.records)
                    and kind_of(btf.records[ptr - 1][1]) == 2
                ):
                    target = btf.records[ptr - 1][2]
                    if 0 < target <= len(btf.records):
                        arrays.append(target)
    arrays = [a for a in arrays if kind_of(btf.records[a - 1][1]) == ARRAY]
    if arrays:
        record = btf.records[rng.choice(arrays) - 1]
        if len(record) > 5:
            values = [*INTERESTING_32, *range(0, 36), 1 << 20, 1 << 26]
            record[5] = _pick(rng, values, record[5])


# -- .BTF.ext ---------------------------------------------------------------------------


def _ext_mutator(body: Callable[[bytearray, Elf, random.Random], None]) -> Mutator:
    def mutate(elf: Elf, rng: random.Random) -> None:
        index = elf.find(b".BTF.ext")
        if index < 0:
            return
        data = bytearray(elf.sections[index].data)
        body(data, elf, rng)
        elf.set_data(index, bytes(data))

    mutate.__doc__ = body.__doc__
    return mutate


def _ext_header(data: bytearray, elf: Elf, rng: random.Random) -> None:
    """A ``.BTF.ext`` header field (offsets and lengths of the three blocks)."""
    if len(data) >= EXT_HEADER.size:
        fields = list(EXT_HEADER.unpack_from(data))
        field = rng.randrange(3, 10)
        fields[field] = _pick(rng, INTERESTING_32, fields[field])
        EXT_HEADER.pack_into(data, 0, *fields)


def _ext_record(data: bytearray, elf: Elf, rng: random.Random) -> None:
    """One word of a func_info, line_info or CO-RE record (instruction offsets,
    type ids, string offsets, relocation kinds), or a block's record size."""
    records = ext_records(bytes(data))
    if not records:
        return
    _, offset, size = rng.choice(records)
    if rng.random() < 0.1:
        offset, size = offset - 8, 8  # the section-name/count pair before it
    at = offset + 4 * rng.randrange(max(size // 4, 1))
    if at >= 0 and at + 4 <= len(data):
        (old,) = struct.unpack_from("<I", data, at)
        struct.pack_into("<I", data, at, _pick(rng, INTERESTING_32, old))


ACCESS_STRINGS = [
    b"",
    b"0",
    b"0:1000000",
    b"0:-1",
    b"x:y",
    b"0:" + b"1:" * 2000 + b"1",
    b"4294967295",
    b"0::0",
    b":",
    b"\xff",
    b"0:0:0:0:0:0:0:0:0:0:0:0:0:0:0:0:0:0:0:0:0:0",
]


def _ext_access(data: bytearray, elf: Elf, rng: random.Random) -> None:
    """A CO-RE relocation's access string, kind or type id."""
    core = [r for r in ext_records(bytes(data)) if r[0] == "core" and r[2] >= 16]
    btf_index = elf.find(b".BTF")
    if not core or btf_index < 0:
        return
    btf = Btf.parse(elf.sections[btf_index].data)
    if btf is None:
        return
    _, offset, _ = rng.choice(core)
    choice = rng.randrange(3)
    if choice == 0:
        struct.pack_into(
            "<I", data, offset + 8, btf.add_string(rng.choice(ACCESS_STRINGS))
        )
        elf.set_data(btf_index, btf.to_bytes())
    elif choice == 1:
        struct.pack_into("<I", data, offset + 12, rng.choice([*range(14), 99]))
    else:
        struct.pack_into("<I", data, offset + 4, _type_id(btf, rng, 1))


MUTATORS: dict[str, tuple[Mutator, int]] = {
    # name: (mutator, weight)
    "shdr_field": (shdr_field, 6),
    "size_bomb": (size_bomb, 4),
    "ehdr_field": (ehdr_field, 3),
    "truncate": (truncate, 2),
    "section_type": (section_type, 3),
    "rename_section": (rename_section, 4),
    "duplicate_section": (duplicate_section, 2),
    "havoc": (havoc, 4),
    "empty_section": (empty_section, 2),
    "symbol": (symbol, 6),
    "reloc": (reloc, 5),
    "license": (license_text, 1),
    "rename_symbol_and_var": (rename_symbol_and_var, 8),
    "rename_datasec": (rename_datasec, 4),
    "btf_header": (_btf_mutator(_btf_header), 2),
    "btf_kind": (_btf_mutator(_btf_kind), 3),
    "btf_vlen": (_btf_mutator(_btf_vlen), 4),
    "btf_kind_flag": (_btf_mutator(_btf_kind_flag), 3),
    "btf_type_ref": (_btf_mutator(_btf_type_ref), 10),
    "btf_cycle": (_btf_mutator(_btf_cycle), 6),
    "btf_self_contain": (_btf_mutator(_btf_self_contain), 6),
    "btf_deep_chain": (_btf_mutator(_btf_deep_chain), 3),
    "btf_size": (_btf_mutator(_btf_size), 6),
    "btf_member_offset": (_btf_mutator(_btf_member_offset), 6),
    "btf_int": (_btf_mutator(_btf_int), 3),
    "btf_array": (_btf_mutator(_btf_array), 4),
    "btf_name": (_btf_mutator(_btf_name), 10),
    "btf_strings": (_btf_mutator(_btf_strings), 2),
    "btf_datasec": (_btf_mutator(_btf_datasec), 4),
    "btf_linkage": (_btf_mutator(_btf_linkage), 3),
    "btf_enum": (_btf_mutator(_btf_enum), 3),
    "btf_duplicate": (_btf_mutator(_btf_duplicate), 3),
    "btf_swap": (_btf_mutator(_btf_swap), 2),
    "map_attribute": (_btf_mutator(_map_attribute), 6),
    "ext_header": (_ext_mutator(_ext_header), 2),
    "ext_record": (_ext_mutator(_ext_record), 5),
    "ext_access": (_ext_mutator(_ext_access), 4),
}
_NAMES = list(MUTATORS)
_WEIGHTS = [MUTATORS[n][1] for n in _NAMES]


def plan(rng: random.Random, tag: str) -> list[Step]:
    """The steps of one mutant: 1 to 6 mutators (half of the mutants have one)."""
    count = 1
    while count < 6 and rng.random() < 0.5:
        count += 1
    names = rng.choices(_NAMES, _WEIGHTS, k=count)
    return [(name, f"{tag}:{k}") for k, name in enumerate(names)]


def build(seed: Elf, steps: list[Step]) -> Elf:
    """``seed`` with ``steps`` applied in order (``seed`` itself is left as it is)."""
    elf = seed.copy()
    for name, step_seed in steps:
        MUTATORS[name][0](elf, random.Random(step_seed))
    return elf


def apply(seed: Elf, steps: list[Step]) -> bytes:
    """The mutant's bytes."""
    return build(seed, steps).to_bytes()
