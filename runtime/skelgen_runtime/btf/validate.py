"""What makes a decoded BTF safe to walk: every type id it uses exists, no type
contains or refers to itself in a loop, and types nest at most
:data:`MAX_NESTING` deep.

After :func:`validate`, recursive walks (sizes, alignment, the generator's C
declarations and ctypes classes, CO-RE) end, and within Python's recursion limit.

Loops are found as the kernel finds them (``btf_resolve``): a pointer's target is
named, not expanded, once it is a struct or union, so ``struct list { struct list
*next; }`` is fine, while a struct holding itself by value, a typedef of itself or
a pointer to itself is not.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..errors import ObjectError
from . import types as t

# How deep types may nest (members, arrays, pointers, parameters, all counted):
# vmlinux needs 33.  Recursive walks of a validated BTF then stay well inside
# Python's recursion limit.
MAX_NESTING = 100
_UNSEEN, _ON_PATH = 0, -1
_MODIFIERS_AND_TYPEDEF = (t.Volatile, t.Const, t.Restrict, t.TypeTag, t.Typedef)


def validate(types: list[t.BtfType]) -> None:
    """Raise :class:`ObjectError` naming the first type that breaks a rule."""
    for type_id, item in enumerate(types):
        for ref in _references(item):
            if not 0 <= ref < len(types):
                raise ObjectError(
                    f"BTF type {type_id} ({_describe(item)}) refers to type {ref}, "
                    "which does not exist"
                )
    for type_id, item in enumerate(types):
        _check_kinds(types, type_id, item)
    # A node is 2 * type id, + 1 when reached through a pointer; depth[node] is
    # the length of the longest path from it once known.
    depth = [_UNSEEN] * (2 * len(types))
    for type_id in range(len(types)):
        if depth[2 * type_id] == _UNSEEN:
            _walk(types, 2 * type_id, depth)


def _walk(types: list[t.BtfType], root: int, depth: list[int]) -> None:
    """Depth-first from ``root``, without recursion; a node met again while it is
    still on the path is a loop."""
    depth[root] = _ON_PATH
    path: list[tuple[int, list[int]]] = [(root, _edges(types, root))]
    next_edge = [0]
    while path:
        node, successors = path[-1]
        if next_edge[-1] < len(successors):
            successor = successors[next_edge[-1]]
            next_edge[-1] += 1
            if depth[successor] == _UNSEEN:
                depth[successor] = _ON_PATH
                path.append((successor, _edges(types, successor)))
                next_edge.append(0)
            elif depth[successor] == _ON_PATH:
                item = types[successor // 2]
                how = (
                    "contains itself"
                    if isinstance(item, (t.Struct, t.Union))
                    else "refers to itself"
                )
                raise ObjectError(
                    f"BTF type {successor // 2} ({_describe(item)}) {how}"
                )
            continue
        path.pop()
        next_edge.pop()
        depth[node] = 1 + max((depth[s] for s in successors), default=0)
        if depth[node] > MAX_NESTING:
            raise ObjectError(
                f"BTF type {node // 2} ({_describe(types[node // 2])}) nests types "
                f"more than {MAX_NESTING} deep"
            )


def _edges(types: list[t.BtfType], node: int) -> list[int]:
    """The nodes a walk from ``node`` goes on to."""
    item = types[node // 2]
    through_pointer = node & 1
    if isinstance(item, _MODIFIERS_AND_TYPEDEF):
        return [2 * item.type_id + through_pointer]
    if isinstance(item, t.Array):
        return [2 * item.elem_type + through_pointer]
    if isinstance(item, (t.Struct, t.Union)):
        # through a pointer, a struct is only named
        return [] if through_pointer else [2 * m.type_id for m in item.members]
    if isinstance(item, (t.Ptr, t.Func)):
        return [2 * item.type_id + 1]
    if isinstance(item, t.FuncProto):
        return [2 * item.return_type + 1] + [2 * p.type_id + 1 for p in item.params]
    if isinstance(item, t.Var):
        return [2 * item.type_id]
    if isinstance(item, t.Datasec):
        return [2 * v.type_id for v in item.vars]
    return []


def _check_kinds(types: list[t.BtfType], type_id: int, item: t.BtfType) -> None:
    """What the kernel's BTF checks insist on, and readers rely on: a FUNC is of a
    FUNC_PROTO, a DATASEC holds VARs (and, in ``.ksyms``, FUNCs)."""
    if isinstance(item, t.Func) and not isinstance(types[item.type_id], t.FuncProto):
        raise ObjectError(
            f"BTF type {type_id} ({_describe(item)}) is not of a function prototype"
        )
    if isinstance(item, t.Datasec):
        for secinfo in item.vars:
            if not isinstance(types[secinfo.type_id], (t.Var, t.Func)):
                raise ObjectError(
                    f"BTF type {type_id} ({_describe(item)}) holds type "
                    f"{secinfo.type_id}, which is not a variable"
                )


def _references(item: t.BtfType) -> Iterator[int]:
    """Every type id a type holds."""
    if isinstance(item, (*_MODIFIERS_AND_TYPEDEF, t.Ptr, t.Func, t.Var, t.DeclTag)):
        yield item.type_id
    elif isinstance(item, t.Array):
        yield item.elem_type
        yield item.index_type
    elif isinstance(item, (t.Struct, t.Union)):
        for member in item.members:
            yield member.type_id
    elif isinstance(item, t.FuncProto):
        yield item.return_type
        for param in item.params:
            yield param.type_id
    elif isinstance(item, t.Datasec):
        for secinfo in item.vars:
            yield secinfo.type_id


def _describe(item: t.BtfType) -> str:
    return f"{item.kind.name} {item.name!r}" if item.name else item.kind.name
