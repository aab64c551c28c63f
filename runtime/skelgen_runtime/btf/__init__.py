"""BTF: the type model, its binary codec, ``.BTF.ext`` records.  No syscalls."""

from .btf import Btf
from .ext import BtfExt, CoreRelo, FuncInfo, LineInfo, parse_btf_ext

__all__ = ["Btf", "BtfExt", "CoreRelo", "FuncInfo", "LineInfo", "parse_btf_ext"]
