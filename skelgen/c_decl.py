"""C declarations rebuilt from BTF: one declarator writer for comments and headers.

A BTF type chain (``typedef → array → ptr → const → int``) is turned into C the
way libbpf's ``btf_dump`` does it, so that a header written from the same BTF
reads like ``bpftool btf dump … format c``: the chain is stacked down to its
terminal type (int, struct, typedef, …), the terminal is written first, then the
stack is unwound — qualifiers of the terminal go before it (``const char``),
qualifiers of a pointer after its ``*`` (``char * const``), arrays and function
prototypes wrap what lies between them and the name in parentheses
(``int (*handlers[4])(void)``).

:class:`Declarations` writes for generated-module comments: one line, names
made comment-safe, anonymous types as ``struct (anon)``, type tags left out.
:class:`skelgen.c_header.HeaderWriter` overrides the hooks to write compilable C.
"""

from __future__ import annotations

from skelgen_runtime.btf import types as bt
from skelgen_runtime.btf.btf import AbstractBtf
from skelgen_runtime.errors import ObjectError

from .naming import comment_text

# What ends a declaration chain: the type named first in the C declaration.
_TERMINALS = (bt.Int, bt.Float, bt.Struct, bt.Union, bt.Enum, bt.Fwd, bt.Typedef)
_QUALIFIERS = {bt.Volatile: "volatile", bt.Const: "const", bt.Restrict: "restrict"}
# Kinds that qualify the type they point to.
MODIFIERS = (bt.Volatile, bt.Const, bt.Restrict, bt.TypeTag)


def tag_keyword(item: bt.Struct | bt.Union | bt.Enum | bt.Fwd) -> str:
    if isinstance(item, bt.Struct):
        return "struct"
    if isinstance(item, bt.Union):
        return "union"
    if isinstance(item, bt.Enum):
        return "enum"
    return "union" if item.is_union else "struct"


class Declarations:
    """Writes ``declaration(type_id, "name")`` for the types of one BTF.

    The hooks (:meth:`spell`, :meth:`tag`, :meth:`typedef_name`, :meth:`type_tag`)
    decide how names, structs/unions/enums and type tags come out; the
    declarator syntax is the same for every writer.
    """

    def __init__(self, btf: AbstractBtf) -> None:
        self.btf = btf

    # -- hooks --------------------------------------------------------------------

    def spell(self, name: str) -> str:
        """A name from BTF as written (parameters, base types)."""
        return comment_text(name)

    def tag(
        self, type_id: int, item: bt.Struct | bt.Union | bt.Enum | bt.Fwd, lvl: int
    ) -> str:
        """``struct foo``; a header writes an anonymous type's definition here."""
        name = comment_text(item.name) if item.name else "(anon)"
        return f"{tag_keyword(item)} {name}"

    def typedef_name(self, type_id: int) -> str:
        return comment_text(self.btf[type_id].name)

    def type_tag(self, item: bt.TypeTag) -> str:
        """What a type tag adds after the type it qualifies (comments: nothing)."""
        return ""

    # -- the declarator -----------------------------------------------------------

    def type_name(self, type_id: int) -> str:
        """``struct event``, ``unsigned int``, ``enum color``, ``struct (anon)``."""
        return self.declaration(type_id)

    def declaration(self, type_id: int, declarator: str = "", lvl: int = 0) -> str:
        """The C declaration of ``declarator`` with type ``type_id``
        (``char comm[16]``); ``lvl`` is the indent of inline definitions."""
        chain = []
        limit = len(self.btf)
        while True:
            chain.append(type_id)
            if type_id == 0:
                break
            item = self.btf[type_id]
            if isinstance(item, (bt.Ptr, *MODIFIERS)):
                type_id = item.type_id
            elif isinstance(item, bt.FuncProto):
                type_id = item.return_type
            elif isinstance(item, bt.Array):
                type_id = item.elem_type
            else:  # a terminal, or a kind that has no place in a declaration
                break
            if len(chain) > limit:
                raise ObjectError(f"BTF type {type_id} is part of a type loop")
        return "".join(self._unwind(chain, declarator, lvl))

    def _qualifiers(self, chain: list[int]) -> str:
        """Pop the const/volatile/restrict that qualify the terminal just written."""
        words = ""
        while chain:
            word = _QUALIFIERS.get(type(self.btf[chain[-1]]))
            if word is None:
                break
            words += word + " "
            chain.pop()
        return words

    def _drop_modifiers(self, chain: list[int]) -> None:
        # Qualifiers of an array or a function have no meaning in C (gcc emits
        # them for const element types and noreturn functions): left out.
        while chain and isinstance(self.btf[chain[-1]], MODIFIERS):
            chain.pop()

    def _unwind(self, chain: list[int], declarator: str, lvl: int) -> list[str]:
        out: list[str] = []
        last_was_ptr = True  # no space before the "*" of a lone pointer: "(*f)"
        while chain:
            type_id = chain.pop()
            if type_id == 0:
                out += (self._qualifiers(chain), "void")
                last_was_ptr = False
                continue
            item = self.btf[type_id]
            if isinstance(item, (bt.Int, bt.Float)):
                out += (self._qualifiers(chain), self.spell(item.name))
            elif isinstance(item, (bt.Struct, bt.Union, bt.Enum, bt.Fwd)):
                out += (self._qualifiers(chain), self.tag(type_id, item, lvl))
            elif isinstance(item, bt.Typedef):
                out += (self._qualifiers(chain), self.typedef_name(type_id))
            elif isinstance(item, bt.Ptr):
                out.append("*" if last_was_ptr else " *")
            elif isinstance(item, (bt.Volatile, bt.Const, bt.Restrict)):
                out.append(" " + _QUALIFIERS[type(item)])
            elif isinstance(item, bt.TypeTag):
                out += (self._qualifiers(chain), self.type_tag(item))
            elif isinstance(item, bt.Array):
                self._drop_modifiers(chain)
                if not chain:
                    out += (_name(declarator, last_was_ptr), f"[{item.nelems}]")
                    return out
                nested = not isinstance(self.btf[chain[-1]], bt.Array)
                if declarator and not last_was_ptr:
                    out.append(" ")
                inner = "".join(self._unwind(chain, declarator, lvl))
                out.append(f"({inner})" if nested else inner)
                out.append(f"[{item.nelems}]")
                return out
            elif isinstance(item, bt.FuncProto):
                self._drop_modifiers(chain)
                if chain:
                    out.append(f" ({''.join(self._unwind(chain, declarator, lvl))})")
                else:
                    out.append(_name(declarator, last_was_ptr))
                out.append(f"({self._parameters(item, lvl)})")
                return out
            else:
                raise ObjectError(
                    f"BTF type {type_id} ({item.kind.name}) cannot appear in a"
                    " C declaration"
                )
            last_was_ptr = isinstance(item, bt.Ptr)
        out.append(_name(declarator, last_was_ptr))
        return out

    def _parameters(self, proto: bt.FuncProto, lvl: int) -> str:
        params = proto.params
        # clang writes "f(void)" as one parameter of type void
        if not params or (len(params) == 1 and params[0].type_id == 0):
            return "void"
        out = []
        for i, param in enumerate(params):
            if param.type_id == 0 and i == len(params) - 1:
                out.append("...")  # a trailing void parameter is the ellipsis
            else:
                out.append(self.declaration(param.type_id, self.spell(param.name), lvl))
        return ", ".join(out)


def _name(declarator: str, last_was_ptr: bool) -> str:
    return " " + declarator if declarator and not last_was_ptr else declarator


def type_name(btf: AbstractBtf, type_id: int) -> str:
    """``struct event``, ``unsigned int``, ``enum color``, ``struct (anon)``."""
    return Declarations(btf).type_name(type_id)


def declaration(btf: AbstractBtf, type_id: int, declarator: str = "") -> str:
    """The C declaration of ``declarator`` with type ``type_id`` (``char comm[16]``),
    for a comment: one line, comment-safe."""
    return Declarations(btf).declaration(type_id, declarator)
