"""Externs at open time: which ``extern`` symbols the object declares, and the BTF
changes that make the kernel accept its BTF.  Pure: no syscalls.

Follows libbpf's ``bpf_object__collect_externs``:

* ``__kconfig`` variables live in a ``.kconfig`` DATASEC the compiler leaves empty
  (size 0, offsets 0).  They are laid out in libbpf's order (by alignment, largest
  first, then by size, then by name) and become a read-only global-data map,
  described by a :class:`~.spec.DatasecSpec` like ``.rodata``; the loader fills it.
* ``__ksym`` variables and functions live in ``.ksyms``.  The kernel accepts neither
  extern VARs nor FUNCs with extern linkage, so each entry becomes a 4-byte
  ``int`` variable, and functions (kfuncs) are made global and point the DATASEC
  at one ``dummy_ksym`` variable (whose name also fills nameless parameters).
"""

from __future__ import annotations

from ..btf import Btf, types as bt
from ..errors import ObjectError
from .spec import DatasecSpec, ExternKind, ExternSpec, KconfigType, VariableSpec

DUMMY_KSYM = "dummy_ksym"


def collect_externs(
    btf: Btf, symbols: list[tuple[str, bool]]
) -> tuple[dict[str, ExternSpec], DatasecSpec | None]:
    """Externs by name, and the ``.kconfig`` section if any; rewrites ``btf``.

    ``symbols``: (name, is weak) of every undefined global symbol of the object.
    """
    if not symbols:
        return {}, None
    dummy_id = _add_dummy_ksym(btf)
    found = [_extern(btf, name, weak) for name, weak in symbols if name]
    externs = {e.name: e for e in sorted(found, key=_libbpf_order)}
    kconfig = _layout_kconfig(btf, externs)
    _rewrite_ksyms(btf, externs, dummy_id)
    return externs, kconfig


def _libbpf_order(ext: ExternSpec) -> tuple[int, int, int, str]:
    if ext.kind == ExternKind.KCONFIG:
        return 0, -ext.align, ext.size, ext.name
    return 1, 0, 0, ext.name


def _extern(btf: Btf, name: str, weak: bool) -> ExternSpec:
    ids = btf.find(name, (bt.Var, bt.Func))
    if not ids:
        raise ObjectError(
            f"extern {name!r} has no BTF (declare it __kconfig or __ksym)"
        )
    btf_id = ids[0]
    item = btf[btf_id]
    if (isinstance(item, bt.Var) and item.linkage != bt.VarLinkage.GLOBAL_EXTERN) or (
        isinstance(item, bt.Func) and item.linkage != bt.FuncLinkage.EXTERN
    ):
        raise ObjectError(f"extern {name!r}: its BTF is not an extern declaration")
    assert isinstance(item, bt.Var | bt.Func)
    section = _section_of(btf, btf_id)
    if section == ExternKind.KCONFIG.value:
        if isinstance(item, bt.Func):
            raise ObjectError(f"extern function {name!r} cannot be __kconfig")
        size = btf.size_of(item.type_id)
        kconfig_type, signed = _kconfig_type(btf, item.type_id)
        if size <= 0 or kconfig_type is None:
            raise ObjectError(
                f"extern {name!r}: a __kconfig of this type is unsupported"
            )
        return ExternSpec(
            name,
            ExternKind.KCONFIG,
            btf_id,
            weak,
            item.type_id,
            size=size,
            align=btf.align_of(item.type_id),
            kconfig_type=kconfig_type,
            signed=signed,
        )
    if section == ExternKind.KSYM.value:
        type_id = (
            item.type_id if isinstance(item, bt.Func) else btf.resolve(item.type_id)
        )
        return ExternSpec(
            name,
            ExternKind.KSYM,
            btf_id,
            weak,
            type_id,
            is_func=isinstance(item, bt.Func),
        )
    raise ObjectError(
        f"extern {name!r} is in section {section!r}, not .kconfig or .ksyms"
    )


def _section_of(btf: Btf, btf_id: int) -> str:
    for item in btf.types:
        if isinstance(item, bt.Datasec) and any(v.type_id == btf_id for v in item.vars):
            return item.name
    raise ObjectError(f"extern {btf[btf_id].name!r} is in no BTF data section")


def _kconfig_type(btf: Btf, type_id: int) -> tuple[KconfigType | None, bool]:
    """libbpf's ``find_kcfg_type``: which config values the C type can hold."""
    item = btf[btf.resolve(type_id)]
    if isinstance(item, bt.Int):
        if item.encoding & bt.IntEncoding.BOOL:
            return (KconfigType.BOOL if item.size == 1 else None), False
        if item.size == 1:
            return KconfigType.CHAR, item.signed
        if item.size in (2, 4, 8):
            return KconfigType.INT, item.signed
        return None, False
    if isinstance(item, bt.Enum):
        ok = item.name == "libbpf_tristate" and (item.size == 4 or item.is64)
        return (KconfigType.TRISTATE if ok else None), False
    if isinstance(item, bt.Array) and item.nelems > 0:
        element, _ = _kconfig_type(btf, item.elem_type)
        return (KconfigType.CHAR_ARRAY if element == KconfigType.CHAR else None), False
    return None, False


def _layout_kconfig(btf: Btf, externs: dict[str, ExternSpec]) -> DatasecSpec | None:
    kconfig = [e for e in externs.values() if e.kind == ExternKind.KCONFIG]
    if not kconfig:
        return None
    end = 0
    for ext in kconfig:  # already in libbpf's order
        ext.offset = (end + ext.align - 1) // ext.align * ext.align
        end = ext.offset + ext.size
    sec_id = btf.find(ExternKind.KCONFIG.value, bt.Datasec)[0]
    datasec = btf[sec_id]
    assert isinstance(datasec, bt.Datasec)
    datasec.size = end
    variables = []
    for secinfo in datasec.vars:
        var = btf[secinfo.type_id]
        if not isinstance(var, bt.Var):
            raise ObjectError(f".kconfig entry {var.name!r} is not a variable")
        owner = externs.get(var.name)
        if owner is None:
            raise ObjectError(f".kconfig variable {var.name!r} has no extern symbol")
        var.linkage = bt.VarLinkage.GLOBAL_ALLOCATED
        secinfo.offset = owner.offset
        variables.append(
            VariableSpec(var.name, owner.offset, owner.size, var.type_id, var.linkage)
        )
    # The kernel wants DATASEC members in offset order.
    datasec.vars.sort(key=lambda v: v.offset)
    variables.sort(key=lambda v: v.offset)
    return DatasecSpec(ExternKind.KCONFIG.value, end, bytearray(end), sec_id, variables)


def _add_dummy_ksym(btf: Btf) -> int:
    """libbpf's ``add_dummy_ksym_var``: a VAR for the .ksyms entries of kfuncs."""
    sections = btf.find(ExternKind.KSYM.value, bt.Datasec)
    if not sections:
        return 0
    datasec = btf[sections[0]]
    assert isinstance(datasec, bt.Datasec)
    if not any(isinstance(btf[v.type_id], bt.Func) for v in datasec.vars):
        return 0
    return btf.add(bt.Var(DUMMY_KSYM, _int32(btf), bt.VarLinkage.GLOBAL_ALLOCATED))


def _int32(btf: Btf) -> int:
    """The first 32-bit INT of the object's BTF (0 if none), as libbpf picks it."""
    return next(
        (
            i
            for i, item in enumerate(btf.types)
            if isinstance(item, bt.Int) and item.bits == 32
        ),
        0,
    )


def _rewrite_ksyms(btf: Btf, externs: dict[str, ExternSpec], dummy_id: int) -> None:
    sections = btf.find(ExternKind.KSYM.value, bt.Datasec)
    if not sections:
        return
    datasec = btf[sections[0]]
    assert isinstance(datasec, bt.Datasec)
    int_id = _int32(btf)
    for number, secinfo in enumerate(datasec.vars):
        item = btf[secinfo.type_id]
        if item.name not in externs:
            raise ObjectError(f".ksyms entry {item.name!r} has no extern symbol")
        if isinstance(item, bt.Func):
            proto = btf[item.type_id]
            assert isinstance(proto, bt.FuncProto)
            for param in proto.params:
                if param.type_id and not param.name:
                    param.name = DUMMY_KSYM
            item.linkage = bt.FuncLinkage.GLOBAL
            secinfo.type_id = dummy_id
        elif isinstance(item, bt.Var):
            item.linkage = bt.VarLinkage.GLOBAL_ALLOCATED
            item.type_id = int_id
        secinfo.offset, secinfo.size = 4 * number, 4
    datasec.size = 4 * len(datasec.vars)
