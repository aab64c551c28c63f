"""Values of ``__ksym`` externs: kernel variables and functions, as libbpf finds them.

* An untyped variable (``extern const void sym __ksym``) gets its address from
  ``/proc/kallsyms``; the program loads it as a 64-bit constant.
* A typed variable gets the BTF id of the kernel's VAR (``BPF_PSEUDO_BTF_ID``),
  in vmlinux or else in a module (then with that module's BTF fd); its type must be
  compatible with the kernel's.
* A function (kfunc) gets the BTF id of the kernel's FUNC, whose prototype must be
  compatible; a module's kfunc also needs the module's BTF fd in the program's
  ``fd_array``, at the index the call instruction's offset names.

An unresolved ``__weak`` extern is zero (a NULL address, a call the verifier must
find dead); an unresolved strong one is an error.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable, Iterable

from ..btf import types as bt
from ..btf.btf import AbstractBtf
from ..btf.lazy import LazyBtf
from ..errors import LoadError
from ..lean.records import dataclass, field
from ..obj.spec import ExternKind, ExternSpec

KALLSYMS = "/proc/kallsyms"


@dataclass
class KsymValue:
    """What references to one ksym become."""

    btf_id: int = 0  # kernel BTF id of the VAR or FUNC (0: not found)
    btf_fd: int = 0  # BTF fd of the module that has it (0: vmlinux)
    fd_index: int = 0  # kfunc of a module: index of btf_fd in the fd_array
    address: int = 0  # untyped variable: kallsyms address


@dataclass
class Ksyms:
    """Every ksym of an object, and the fd_array its kfunc calls need."""

    values: dict[str, KsymValue] = field(default_factory=dict)
    fd_array: list[int] = field(default_factory=list)  # [0] unused, as libbpf
    module_fds: dict[str, int] = field(default_factory=dict)  # owned: close them


def read_kallsyms() -> bytes:
    try:
        with open(KALLSYMS, "rb") as f:
            return f.read()
    except OSError as exc:
        raise LoadError(
            f"{KALLSYMS}: {exc.strerror} (needed for __ksym externs)"
        ) from None


def kallsyms_addresses(text: bytes, names: Iterable[str]) -> dict[str, int]:
    """Address of each of ``names`` in kallsyms-format ``text`` (absent: not listed);
    a name listed at two addresses is an error, as in libbpf."""
    out: dict[str, int] = {}
    for name in names:
        # lines are "address type name" (then "\t[module]" for modules)
        pattern = b" " + name.encode()
        at = text.find(pattern)
        while at >= 0:
            after = at + len(pattern)
            start = text.rfind(b"\n", 0, at) + 1
            address, _, kind = text[start:at].partition(b" ")
            if text[after : after + 1] in (b"\n", b"\t", b"") and len(kind) == 1:
                value = int(address, 16)
                if out.setdefault(name, value) != value:
                    raise LoadError(
                        f"extern (ksym) {name!r}: kallsyms lists it at "
                        f"{out[name]:#x} and at {value:#x}"
                    )
            at = text.find(pattern, after)
    return out


def resolve_ksyms(
    externs: Iterable[ExternSpec],
    local_btf: AbstractBtf,
    vmlinux: Callable[[], LazyBtf],
    modules: Callable[[], list[tuple[str, LazyBtf]]],
    module_fd: Callable[[str], int],
    kallsyms: Callable[[], bytes],
) -> Ksyms:
    """Resolve the ``.ksyms`` externs; ``module_fd`` opens a module's BTF object
    (the fds end up in the result; the caller closes them after loading)."""
    ksyms = [e for e in externs if e.kind == ExternKind.KSYM]
    result = Ksyms({e.name: KsymValue() for e in ksyms})
    resolved: set[str] = set()
    variables = [e.name for e in ksyms if not e.is_func]
    if any(not e.is_func and not e.type_id for e in ksyms):
        # libbpf reads kallsyms only for untyped ones, then fills every variable
        for name, address in kallsyms_addresses(kallsyms(), variables).items():
            result.values[name].address = address
            resolved.add(name)
    try:
        for ext in ksyms:
            if ext.type_id and _resolve_typed(
                ext, result, local_btf, vmlinux, modules, module_fd
            ):
                resolved.add(ext.name)
        for ext in ksyms:
            if ext.name not in resolved and not ext.weak:
                where = "the kernel's BTF" if ext.type_id else "/proc/kallsyms"
                raise LoadError(  # libbpf's ESRCH
                    f"extern (ksym) {ext.name!r} is not resolved: not in {where}",
                    errno=errno.ESRCH,
                )
    except BaseException:
        for fd in result.module_fds.values():
            os.close(fd)
        raise
    return result


def _resolve_typed(
    ext: ExternSpec,
    result: Ksyms,
    local_btf: AbstractBtf,
    vmlinux: Callable[[], LazyBtf],
    modules: Callable[[], list[tuple[str, LazyBtf]]],
    module_fd: Callable[[str], int],
) -> bool:
    """Find a typed variable or a kfunc in kernel BTF; False if it is not there."""
    kind: type[bt.Func] | type[bt.Var] = bt.Func if ext.is_func else bt.Var
    found = _find(ext.name, kind, vmlinux, modules)
    if found is None:
        return False
    module, btf, btf_id = found
    item = btf[btf_id]
    assert isinstance(item, bt.Func | bt.Var)
    target_type = item.type_id if ext.is_func else btf.resolve(item.type_id)
    from ..btf.core import types_are_compatible  # objects with ksyms only

    if not types_are_compatible(local_btf, ext.type_id, btf, target_type):
        raise LoadError(
            f"extern (ksym) {ext.name!r}: its type does not match the kernel's "
            f"[{target_type}] {btf[target_type].name or btf[target_type].kind.name}"
        )
    value = result.values[ext.name]
    value.btf_id = btf_id
    if module is None:
        return True
    if module not in result.module_fds:
        result.module_fds[module] = module_fd(module)
    value.btf_fd = result.module_fds[module]
    if ext.is_func:
        if not result.fd_array:
            result.fd_array.append(0)  # index 0 would mean vmlinux
        if value.btf_fd not in result.fd_array:
            result.fd_array.append(value.btf_fd)
        value.fd_index = result.fd_array.index(value.btf_fd)
    return True


def _find(
    name: str,
    kind: type[bt.Func] | type[bt.Var],
    vmlinux: Callable[[], LazyBtf],
    modules: Callable[[], list[tuple[str, LazyBtf]]],
) -> tuple[str | None, LazyBtf, int] | None:
    """(module or None, its BTF, type id) of the kernel's ``name``: vmlinux first."""
    ids = vmlinux().find(name, kind)
    if ids:
        return None, vmlinux(), ids[0]
    for module, btf in modules():
        ids = btf.find(name, kind)
        if ids:
            return module, btf, ids[0]
    return None
