"""C declarations rebuilt from BTF, for the comments of generated code."""

from __future__ import annotations

from skelgen_runtime.btf import Btf, types as bt

from .naming import comment_text


def type_name(btf: Btf, type_id: int) -> str:
    """``struct event``, ``unsigned int``, ``enum color``, ``struct (anon)``."""
    item = btf[type_id]
    name = comment_text(item.name) if item.name else "(anon)"
    if isinstance(item, (bt.Struct, bt.Union, bt.Enum, bt.Fwd)):
        if isinstance(item, bt.Struct):
            keyword = "struct"
        elif isinstance(item, bt.Union):
            keyword = "union"
        elif isinstance(item, bt.Enum):
            keyword = "enum"
        else:
            keyword = "union" if item.is_union else "struct"
        return f"{keyword} {name}"
    if isinstance(item, bt.Void):
        return "void"
    return name


def declaration(btf: Btf, type_id: int, declarator: str = "") -> str:
    """The C declaration of ``declarator`` with type ``type_id`` (``char comm[16]``)."""
    item = btf[type_id]
    if isinstance(item, bt.Ptr):
        target = btf[item.type_id]
        inner = "*" + declarator
        if isinstance(target, (bt.Array, bt.FuncProto)):
            inner = f"({inner})"
        return declaration(btf, item.type_id, inner)
    if isinstance(item, bt.Array):
        return declaration(btf, item.elem_type, f"{declarator}[{item.nelems}]")
    if isinstance(item, (bt.Const, bt.Volatile, bt.Restrict)):
        qualifier = {
            bt.Const: "const",
            bt.Volatile: "volatile",
            bt.Restrict: "restrict",
        }
        return f"{qualifier[type(item)]} {declaration(btf, item.type_id, declarator)}"
    if isinstance(item, bt.TypeTag):
        return declaration(btf, item.type_id, declarator)
    if isinstance(item, bt.FuncProto):
        params = ", ".join(
            declaration(btf, p.type_id, comment_text(p.name)) for p in item.params
        )
        return declaration(btf, item.return_type, f"{declarator}({params or 'void'})")
    base = type_name(btf, type_id)
    return f"{base} {declarator}" if declarator else base
