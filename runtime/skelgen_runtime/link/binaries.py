"""Where a uprobe goes: binaries found by name, function names turned into file offsets.

No syscalls: this reads ELF files and the dynamic linker's cache listing
(``ldconfig -p``), following libbpf's rules (``resolve_full_path()`` and
``elf_find_func_offset()``).
"""

from __future__ import annotations

import errno
import fnmatch
import functools
import os
import re
import sys

from ..errors import AttachError
from ..lean.hints import TYPE_CHECKING
from ..lean.records import dataclass

if TYPE_CHECKING:
    from elftools.elf.elffile import ELFFile

# sysconfig's MULTIARCH, without loading sysconfig's data (milliseconds)
_MULTIARCH = (
    getattr(sys.implementation, "_multiarch", "") or f"{os.uname().machine}-linux-gnu"
)
# Where the dynamic linker looks when neither LD_LIBRARY_PATH nor its cache has a library.
DEFAULT_LIBRARY_DIRS = (
    "/lib64",
    "/usr/lib64",
    "/lib",
    "/usr/lib",
    f"/lib/{_MULTIARCH}",
    f"/usr/lib/{_MULTIARCH}",
)
_LDCONFIG_LINE = re.compile(r"^\s+(\S+) \(([^)]*)\) => (\S.*)$")


@dataclass(frozen=True)
class FunctionRef:
    """``FUNC[+OFFSET]``: a function of a binary and a byte offset into it."""

    name: str
    offset: int = 0


@dataclass(frozen=True)
class UprobeTarget:
    """What ``SEC("uprobe/BINARY:FUNC+OFFSET")`` names."""

    binary: str
    function: FunctionRef


def parse_function(text: str) -> FunctionRef:
    """``"func"`` or ``"func+0x10"``; a ``+`` not followed by a number stays in the name."""
    name, plus, offset = text.rpartition("+")
    if plus and name:
        try:
            return FunctionRef(name, int(offset, 0))
        except ValueError:
            pass
    return FunctionRef(text)


def parse_target(target: str) -> UprobeTarget:
    """Split a uprobe section target: the binary runs up to the first ``:``."""
    binary, colon, function = target.partition(":")
    if not colon or not binary or not function:
        raise AttachError(
            f"uprobe target {target!r} must be BINARY:FUNCTION[+OFFSET]",
            errno=errno.EINVAL,
        )
    return UprobeTarget(binary, parse_function(function))


# -- finding binaries -------------------------------------------------------------------


def parse_ldconfig(listing: str) -> list[tuple[str, str, str]]:
    """``ldconfig -p`` output → ``(soname, flags, path)`` in cache order."""
    entries = []
    for line in listing.splitlines():
        match = _LDCONFIG_LINE.match(line)
        if match:
            entries.append((match[1], match[2], match[3].strip()))
    return entries


@functools.lru_cache(maxsize=1)
def _ldconfig_cache() -> tuple[tuple[str, str, str], ...]:
    import shutil
    import subprocess

    path = shutil.which(
        "ldconfig",
        path=os.pathsep.join([os.environ.get("PATH", ""), "/sbin", "/usr/sbin"]),
    )
    if path is None:
        return ()
    try:
        run = subprocess.run(
            [path, "-p"], capture_output=True, text=True, check=False, timeout=10
        )
    except (OSError, subprocess.TimeoutExpired):
        return ()
    return tuple(parse_ldconfig(run.stdout))


def _elf_kind(path: str) -> tuple[int, int] | None:
    """ELF class and machine of ``path``, or None if it is not an ELF file."""
    try:
        with open(path, "rb") as f:
            head = f.read(20)
    except OSError:
        return None
    if len(head) < 20 or head[:4] != b"\x7fELF":
        return None
    return head[4], int.from_bytes(head[18:20], "little" if head[5] == 1 else "big")


@functools.lru_cache(maxsize=1)
def _host_elf_kind() -> tuple[int, int] | None:
    return _elf_kind("/proc/self/exe")


def _usable(path: str) -> bool:
    """An existing ELF file for this machine (the cache also lists 32-bit libraries)."""
    return os.path.isfile(path) and _elf_kind(path) == _host_elf_kind()


def library_candidates(name: str, environ: dict[str, str] | None = None) -> list[str]:
    """Where the dynamic linker would look for library ``name``, in its order."""
    env = os.environ if environ is None else environ
    dirs = [d for d in env.get("LD_LIBRARY_PATH", "").split(":") if d]
    paths = [os.path.join(d, name) for d in dirs]
    paths += [path for soname, _flags, path in _ldconfig_cache() if soname == name]
    paths += [os.path.join(d, name) for d in DEFAULT_LIBRARY_DIRS]
    return paths


def find_binary(name: str) -> str:
    """An absolute path for ``name``: a path is taken as given, a name containing
    ``.so`` is searched like a shared library, any other name along ``$PATH``."""
    if "/" in name:
        if not os.path.isfile(name):
            raise AttachError(f"uprobe binary {name}: no such file", errno=errno.ENOENT)
        return os.path.abspath(name)
    if ".so" in name:
        candidates = library_candidates(name)
    else:
        candidates = [
            os.path.join(d, name)
            for d in os.environ.get("PATH", "").split(os.pathsep)
            if d
        ]
    for candidate in candidates:
        if _usable(candidate):
            return os.path.abspath(candidate)
    if ".so" in name:
        where = "LD_LIBRARY_PATH, the ldconfig cache and " + ", ".join(
            DEFAULT_LIBRARY_DIRS
        )
    else:
        where = "$PATH"
    raise AttachError(
        f"uprobe binary {name!r} not found in {where}", errno=errno.ENOENT
    )


# -- function offsets -------------------------------------------------------------------


def _file_offset(elf: ELFFile, vaddr: int) -> int | None:
    """The file offset holding virtual address ``vaddr``, from its PT_LOAD segment."""
    for segment in elf.iter_segments("PT_LOAD"):
        start = segment["p_vaddr"]
        if start <= vaddr < start + segment["p_filesz"]:
            return int(vaddr - start + segment["p_offset"])
    return None


def _matches(symbol_name: str, wanted: str) -> bool:
    # "malloc" also matches a versioned "malloc@@GLIBC_2.2.5", not "malloc2".
    return symbol_name == wanted or (
        "@" not in wanted
        and symbol_name.startswith(wanted)
        and symbol_name[len(wanted)] == "@"
    )


@dataclass(frozen=True)
class _Function:
    name: str
    offset: int
    weak: bool


def _function_tables(path: str, order: tuple[str, ...]) -> list[list[_Function]]:
    """The defined functions of each symbol table in ``order``, with file offsets."""
    # pyelftools and the object reader: imported by the first uprobe, not by every
    # program that may attach one
    from elftools.elf.elffile import ELFFile
    from elftools.elf.sections import SymbolTableSection

    from ..obj.elf import CORRUPT_ELF_ERRORS

    tables = []
    try:
        with open(path, "rb") as f:
            elf = ELFFile(f)
            for table_name in order:
                table = elf.get_section_by_name(table_name)
                if not isinstance(table, SymbolTableSection):
                    continue
                functions = []
                for symbol in table.iter_symbols():
                    info = symbol["st_info"]
                    if info["type"] != "STT_FUNC" or symbol["st_shndx"] == "SHN_UNDEF":
                        continue
                    offset = _file_offset(elf, symbol["st_value"])
                    if offset is not None:
                        functions.append(
                            _Function(symbol.name, offset, info["bind"] == "STB_WEAK")
                        )
                tables.append(functions)
    except OSError as exc:
        raise AttachError(
            f"uprobe binary {path}: {exc.strerror}", errno=exc.errno or 0
        ) from None
    except CORRUPT_ELF_ERRORS as exc:
        raise AttachError(
            f"uprobe binary {path} is not a usable ELF file: {exc}", errno=errno.ENOEXEC
        ) from None
    return tables


def function_offset(path: str, name: str) -> int:
    """File offset of function ``name`` in the ELF file ``path`` (libbpf's rules: the
    first of .dynsym and .symtab that has it; one strong definition wins over weak
    ones; two strong ones at different places are ambiguous)."""
    for functions in _function_tables(path, (".dynsym", ".symtab")):
        found: _Function | None = None
        for function in functions:
            if not _matches(function.name, name) or (
                found and function.offset == found.offset
            ):
                continue
            if found is not None and not found.weak:
                if function.weak:
                    continue
                raise AttachError(
                    f"function {name!r} is ambiguous in {path}: defined at file offsets "
                    f"{found.offset:#x} and {function.offset:#x}",
                    errno=errno.EINVAL,
                )
            found = function
        if found is not None:
            return found.offset
    raise AttachError(
        f"no function {name!r} in {path} (searched .dynsym and .symtab)",
        errno=errno.ENOENT,
    )


def function_offsets(path: str, pattern: str) -> list[tuple[str, int]]:
    """``(name, file offset)`` of the functions of ``path`` whose name matches the glob
    ``pattern`` (libbpf's rule for multi-uprobes: .symtab, else .dynsym), one per
    offset: an alias would fire the program twice."""
    for functions in _function_tables(path, (".symtab", ".dynsym")):
        found = {
            f.offset: f.name for f in functions if fnmatch.fnmatchcase(f.name, pattern)
        }
        if found:
            return sorted((name, offset) for offset, name in found.items())
    raise AttachError(
        f"no function matching {pattern!r} in {path} (searched .symtab and .dynsym)",
        errno=errno.ENOENT,
    )
