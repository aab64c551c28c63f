"""struct_ops maps as the object reader sees them, before any kernel is asked."""

from __future__ import annotations

import re
import struct
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from build_cache import BuildCache
from skelgen_runtime import BPFObject, MapType, ObjectError, StructOpsMap
from skelgen_runtime.obj.elf import read_object, read_object_file
from skelgen_runtime.uapi.bpf import MapFlag

from fuzz.model import SYM, Elf, strip_debug

REL = struct.Struct("<QQ")  # Elf64_Rel

MEMBERS = {
    "init": "skt_init",
    "ssthresh": "skt_ssthresh",
    "cong_avoid": "skt_cong_avoid",
    "undo_cwnd": "skt_undo_cwnd",
}


def test_each_variable_is_a_map_with_its_programs_by_member(
    build_bpf: Callable[[str], Path],
) -> None:
    spec = read_object_file(build_bpf("struct_ops_tcp_ca"))
    plain, linked = spec.maps["skelgen_ca"], spec.maps["skelgen_ca_link"]
    for m, link in ((plain, False), (linked, True)):
        assert m.type == MapType.STRUCT_OPS
        assert (m.key_size, m.max_entries) == (4, 1)
        assert m.flags == (MapFlag.LINK if link else 0)
        assert m.struct_ops is not None and m.autocreate
        assert m.struct_ops.type_name == "tcp_congestion_ops"
        assert m.struct_ops.link is link
        assert m.struct_ops.programs == MEMBERS
        assert (
            m.value_size
            == len(m.struct_ops.data)
            == spec.btf.size_of(m.struct_ops.type_id)
        )
    # Data members are the variable's bytes: .name sits at its BTF offset.
    assert b"skelgen_ca_link\0" in bytes(linked.struct_ops.data)  # type: ignore[union-attr]


CLASH_MAP = """\
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
char _license[] SEC("license") = "GPL";
SEC("struct_ops")
__u32 BPF_PROG(clash_undo, struct sock *sk) { return 2; }
/* static: the linker then keeps it beside the other file's program "clash" */
SEC(".struct_ops.link")
static struct tcp_congestion_ops clash = { .undo_cwnd = (void *)clash_undo };
"""
CLASH_PROGRAM = """\
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
SEC("tracepoint/syscalls/sys_enter_getpid")
int clash(void *ctx) { return 0; }
"""


def test_a_program_and_a_struct_ops_map_of_one_name_are_refused(
    build_bpf: Callable[[str], Path], build_cache: BuildCache, tmp_path: Path
) -> None:
    """Both would be ``obj.links["clash"]``: the program's link hid the map's, and
    attach() left the map unregistered.  bpftool's skeleton header, one ``links``
    struct, would not compile either."""
    objects = []
    for name, text in (("clash_map", CLASH_MAP), ("clash_program", CLASH_PROGRAM)):
        source = tmp_path / f"{name}.bpf.c"
        source.write_text(text)
        objects.append(build_bpf(str(source)))
    linked = build_cache.linked_object(objects, "clash.bpf.o")
    message = (
        "program 'clash' (tracepoint/syscalls/sys_enter_getpid) and struct_ops map"
        " 'clash' share a name"
    )
    with pytest.raises(ObjectError, match=re.escape(message)):
        read_object_file(linked)
    proc = subprocess.run(
        [sys.executable, "-m", "skelgen", str(linked), "-o", str(tmp_path / "x.py")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1 and message in proc.stderr
    assert len(proc.stderr.splitlines()) == 1 and not (tmp_path / "x.py").exists()


def test_a_question_mark_section_is_not_created_and_its_programs_not_loaded(
    build_bpf: Callable[[str], Path], tmp_path: Path
) -> None:
    source = Path(__file__).parents[1] / "bpf" / "struct_ops_tcp_ca.bpf.c"
    variant = tmp_path / "struct_ops_optional.bpf.c"
    variant.write_text(
        source.read_text()
        .replace('SEC(".struct_ops.link")', 'SEC("?.struct_ops.link")')
        .replace('SEC(".struct_ops")\n', 'SEC("?.struct_ops")\n')
    )
    with BPFObject.open(build_bpf(str(variant))) as obj:
        m = obj.maps["skelgen_ca"]
        assert isinstance(m, StructOpsMap) and not m.autocreate
        assert not obj.maps["skelgen_ca_link"].autocreate


def _retarget_relocations(elf: Elf, section: bytes, symbol: bytes) -> None:
    """Point every relocation of ``section`` at ``symbol``."""
    symtab = elf.find(b".symtab")
    names = elf.sections[elf.sections[symtab].header[6]].data
    index = next(
        i
        for i, sym in enumerate(SYM.iter_unpack(elf.sections[symtab].data))
        if names[sym[0] : names.index(b"\0", sym[0])] == symbol
    )
    rel = elf.find(b".rel" + section)
    entries = [
        (offset, (index << 32) | (info & 0xFFFFFFFF))
        for offset, info in REL.iter_unpack(elf.sections[rel].data)
    ]
    elf.set_data(rel, b"".join(REL.pack(*e) for e in entries))


@pytest.mark.parametrize(
    ("symbol", "message"),
    [
        (b"init_calls", "points to 'init_calls', which is not a program"),
        (b"skelgen_ca", "points to 'skelgen_ca', which is not a program"),
    ],
)
def test_a_member_pointing_at_no_program_is_an_object_error(
    build_bpf: Callable[[str], Path], symbol: bytes, message: str
) -> None:
    elf = strip_debug(Elf.parse(build_bpf("struct_ops_tcp_ca").read_bytes()))
    _retarget_relocations(elf, b".struct_ops", symbol)
    with pytest.raises(ObjectError, match=message):
        read_object(elf.to_bytes(), "hostile")
