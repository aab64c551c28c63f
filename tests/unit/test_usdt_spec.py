"""``struct __bpf_usdt_spec`` bytes against the compiler: clang lays out initialised
globals of the same struct in ``.data``; the runtime, reading the layout from the
object's BTF, must produce those bytes exactly.  Checked for the installed
``usdt.bpf.h`` (libbpf 1.1: 4-byte ``arg_type``) and for libbpf 1.7's layout
(8-bit ``arg_type`` and the SIB fields, ``reg_off`` two bytes further on)."""

from __future__ import annotations

import errno
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from skelgen_runtime import AttachError, BPFObject
from skelgen_runtime.usdt import SPECS_MAP
from skelgen_runtime.usdt.args import Arg, ArgKind, parse_args
from skelgen_runtime.usdt.spec import SpecLayout

EXACT_ARGS = (
    "-8@%rax -4@%ebx 2@%cx -1@%dl 8@%r12 -4@%r13d -2@%r14w 1@%r15b "
    "-4@$-5 8@$77 -4@8(%rsi) 8@-8(%rdi)"
)
# (arguments, USDT cookie) of each spec the tests lay out.
SPECS: list[tuple[str, int]] = [
    (EXACT_ARGS, 0xFEEDFACECAFEBEEF),
    ("-4@$-7 -4@%edi -8@%rsi 1@%dl -2@(%rcx)", 1),
    ("", (1 << 64) - 1),
]
SIB_SPECS: list[tuple[str, int]] = [
    *SPECS,
    ("8@-96(%rbp,%rax,8) -1@(%rdx,%rcx) 4@%eax", 5),
]

INSTALLED_HEADER = """
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/usdt.bpf.h>
"""
# libbpf 1.7's declarations (little-endian half), which the installed header predates.
LIBBPF_1_7_HEADER = """
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

enum __bpf_usdt_arg_type {
	BPF_USDT_ARG_CONST,
	BPF_USDT_ARG_REG,
	BPF_USDT_ARG_REG_DEREF,
	BPF_USDT_ARG_SIB,
};

struct __bpf_usdt_arg_spec {
	__u64 val_off;
	enum __bpf_usdt_arg_type arg_type: 8;
	__u16 idx_reg_off: 12;
	__u16 scale_bitshift: 4;
	__u8 __reserved: 8;
	short reg_off;
	bool arg_signed;
	char arg_bitshift;
};

struct __bpf_usdt_spec {
	struct __bpf_usdt_arg_spec args[12];
	__u64 usdt_cookie;
	short arg_cnt;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 256);
	__type(key, int);
	__type(value, struct __bpf_usdt_spec);
} __bpf_usdt_specs SEC(".maps") __weak;
"""
_KIND_NAMES = {
    ArgKind.CONST: "BPF_USDT_ARG_CONST",
    ArgKind.REG: "BPF_USDT_ARG_REG",
    ArgKind.REG_DEREF: "BPF_USDT_ARG_REG_DEREF",
    ArgKind.SIB: "BPF_USDT_ARG_SIB",
}


def c_initializer(args: Sequence[Arg], cookie: int, sib: bool) -> str:
    """A C initializer of ``struct __bpf_usdt_spec`` naming every field's value."""
    items = []
    for arg in args:
        fields = [
            f".val_off = {arg.val_off}ULL",
            f".arg_type = {_KIND_NAMES[arg.kind]}",
            f".reg_off = {arg.reg_off}",
            f".arg_signed = {int(arg.signed)}",
            f".arg_bitshift = {arg.bitshift}",
        ]
        if sib:
            fields += [
                f".idx_reg_off = {arg.idx_reg_off}",
                f".scale_bitshift = {arg.scale_bitshift}",
            ]
        items.append("{ " + ", ".join(fields) + " }")
    return (
        f"{{ .args = {{ {', '.join(items)} }}, "
        f".usdt_cookie = {cookie}ULL, .arg_cnt = {len(args)} }}"
    )


def compiled_specs(
    build_bpf: Callable[[str], Path],
    tmp_path: Path,
    header: str,
    specs: Sequence[tuple[str, int]],
    sib: bool,
) -> tuple[SpecLayout, list[tuple[list[Arg], int, bytes]]]:
    """The layout the object's BTF gives, and each spec with clang's bytes for it."""
    parsed = [(parse_args(text), cookie) for text, cookie in specs]
    initializers = ",\n".join(c_initializer(a, c, sib) for a, c in parsed)
    source = tmp_path / f"specs_{'sib' if sib else 'old'}.bpf.c"
    source.write_text(
        f"{header}\nstruct __bpf_usdt_spec spec_values[] = {{\n{initializers}\n}};\n"
        'char LICENSE[] SEC("license") = "GPL";\n'
    )
    with BPFObject.open(build_bpf(str(source))) as obj:
        spec = obj.spec
        layout = SpecLayout.from_btf(spec.btf, spec.maps[SPECS_MAP].btf_value_type_id)
        data = spec.datasecs[".data"]
    [values] = [v for v in data.variables if v.name == "spec_values"]
    out = []
    for index, (args, cookie) in enumerate(parsed):
        start = values.offset + index * layout.size
        out.append((args, cookie, bytes(data.data[start : start + layout.size])))
    return layout, out


def test_installed_header_layout(
    build_bpf: Callable[[str], Path], tmp_path: Path
) -> None:
    layout, specs = compiled_specs(
        build_bpf, tmp_path, INSTALLED_HEADER, SPECS, sib=False
    )
    assert (layout.size, layout.arg_size, layout.max_args) == (208, 16, 12)
    assert layout.arg_fields["reg_off"].bit_offset == 96
    assert not layout.has_sib
    for args, cookie, expected in specs:
        assert layout.encode(args, cookie) == expected
    with pytest.raises(AttachError, match=r"needs libbpf 1\.7") as info:
        layout.encode(parse_args("8@-96(%rbp,%rax,8)"), 0)
    assert info.value.errno == errno.EOPNOTSUPP


def test_libbpf_1_7_layout(build_bpf: Callable[[str], Path], tmp_path: Path) -> None:
    layout, specs = compiled_specs(
        build_bpf, tmp_path, LIBBPF_1_7_HEADER, SIB_SPECS, sib=True
    )
    assert (layout.size, layout.arg_size) == (304, 24)
    assert layout.arg_fields["reg_off"].bit_offset == 112  # moved from 96
    assert layout.has_sib
    for args, cookie, expected in specs:
        assert layout.encode(args, cookie) == expected


def test_too_many_arguments(build_bpf: Callable[[str], Path], tmp_path: Path) -> None:
    layout, _ = compiled_specs(build_bpf, tmp_path, INSTALLED_HEADER, SPECS, sib=False)
    with pytest.raises(
        AttachError, match=r"13 arguments; usdt\.bpf\.h takes at most 12"
    ):
        layout.encode(parse_args(" ".join(["4@%eax"] * 13)), 0)


def test_objects_without_usdt_bpf_h(
    build_bpf: Callable[[str], Path], tmp_path: Path
) -> None:
    source = tmp_path / "not_usdt.bpf.c"
    source.write_text(
        '#include "vmlinux.h"\n#include <bpf/bpf_helpers.h>\n'
        "struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 1);"
        ' __type(key, int); __type(value, __u64); } __bpf_usdt_specs SEC(".maps");\n'
        'char LICENSE[] SEC("license") = "GPL";\n'
    )
    with BPFObject.open(build_bpf(str(source))) as obj:
        spec = obj.spec
    with pytest.raises(AttachError, match="value type is not struct __bpf_usdt_spec"):
        SpecLayout.from_btf(spec.btf, spec.maps[SPECS_MAP].btf_value_type_id)
