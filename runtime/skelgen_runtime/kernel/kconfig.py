"""Values of ``__kconfig`` externs: the kernel config and libbpf's ``LINUX_*`` values.

The config comes from ``/boot/config-$(uname -r)``, else ``/proc/config.gz``, read
only when a ``CONFIG_*`` extern is still unset after the caller's overrides
(``BPFObject(kconfig={...})``).  Values are parsed and stored as libbpf does
(``y``/``n``/``m``, quoted strings, C integers), with its checks: a value must suit
the extern's C type and fit in it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Mapping

from ..errors import LoadError
from ..obj.spec import ExternKind, ExternSpec, KconfigType

CONFIG_PATHS = (f"/boot/config-{os.uname().release}", "/proc/config.gz")
VERSION_SIGNATURE = "/proc/version_signature"
_U64 = (1 << 64) - 1
_TRISTATE = {"y": 1, "m": 2, "n": 0}


def kernel_version(release: str | None = None, signature: str | None = None) -> int:
    """``LINUX_KERNEL_VERSION``: ``KERNEL_VERSION(major, minor, patch)`` of the running
    kernel, from Ubuntu's version signature when there is one (0 if unknown)."""
    if signature is None:
        try:
            with open(VERSION_SIGNATURE) as f:
                signature = f.read()
        except OSError:
            signature = ""
    fields = signature.split()
    match = re.match(r"(\d+)\.(\d+)\.(\d+)", fields[2]) if len(fields) > 2 else None
    if match is None:
        match = re.match(r"(\d+)\.(\d+)\.(\d+)", release or os.uname().release)
    if match is None:
        return 0
    major, minor, patch = (int(g) for g in match.groups())
    return ((major << 16) + (minor << 8) + min(patch, 255)) & 0xFFFFFFFF


def read_kernel_config() -> str:
    """The running kernel's config text (what libbpf reads)."""
    for path in CONFIG_PATHS:
        try:
            with open(path, "rb") as f:
                raw = f.read()
        except OSError:
            continue
        if raw[:2] == b"\x1f\x8b":
            import gzip  # /proc/config.gz: objects with __kconfig externs only

            raw = gzip.decompress(raw)
        return raw.decode("utf-8", "replace")
    raise LoadError(
        "kernel config not found (tried " + ", ".join(CONFIG_PATHS) + "): "
        "__kconfig externs need it"
    )


def config_lines(overrides: Mapping[str, object]) -> list[str]:
    """``{"CONFIG_X": value}`` as config lines: ``True``/``False`` are ``y``/``n``,
    ints numbers, strings are taken as written in a ``.config`` (``y``, ``m``,
    ``"text"`` with its quotes, ``0x10``)."""
    lines = []
    for name, value in overrides.items():
        if isinstance(value, bool):
            text = "y" if value else "n"
        elif isinstance(value, int):
            text = str(value)
        elif isinstance(value, str):
            text = value
        else:
            raise LoadError(
                f"kconfig {name}: {type(value).__name__} is not a config value"
            )
        lines.append(f"{name}={text}")
    return lines


class KconfigFiller:
    """Writes extern values into the ``.kconfig`` bytes and tracks which are set."""

    def __init__(self, externs: Iterable[ExternSpec], data: bytearray) -> None:
        self.externs = {e.name: e for e in externs if e.kind == ExternKind.KCONFIG}
        self.data = data
        self.set: set[str] = set()

    @property
    def missing_config(self) -> bool:
        """A ``CONFIG_*`` extern still has no value."""
        return any(n.startswith("CONFIG_") and n not in self.set for n in self.externs)

    def set_virtual(self, values: Mapping[str, Callable[[], int]]) -> None:
        """The ``LINUX_*`` externs: libbpf's own values (computed only when used),
        zero for unknown weak ones."""
        for name, ext in self.externs.items():
            if not name.startswith("CONFIG_") and name in values:
                self._set_number(ext, values[name]())
            elif not name.startswith("CONFIG_") and not (
                name.startswith("LINUX_") and ext.weak
            ):
                raise LoadError(f"extern (kconfig) {name!r}: unknown virtual extern")

    def apply_config(self, lines: Iterable[str], source: str) -> None:
        """Set unset externs from config lines (``CONFIG_X=value``)."""
        for line in lines:
            line = line.rstrip("\n")
            if not line.startswith("CONFIG_"):
                continue
            name, sep, value = line.partition("=")
            if not sep or not value:
                raise LoadError(f"{source}: cannot parse config line {line!r}")
            ext = self.externs.get(name)
            if ext is None or name in self.set:
                continue
            try:
                self._set_text(ext, value)
            except LoadError as exc:
                raise LoadError(f"{source}: {exc}") from None

    def check_resolved(self) -> None:
        for name, ext in self.externs.items():
            if name not in self.set and not ext.weak:
                raise LoadError(
                    f"extern (kconfig) {name!r} has no value and is not __weak"
                )

    def _set_text(self, ext: ExternSpec, value: str) -> None:
        kind = ext.kconfig_type
        if value[0] in _TRISTATE:
            if kind == KconfigType.BOOL and value[0] != "m":
                self._store(ext, int(value[0] == "y"))
            elif kind == KconfigType.TRISTATE:
                self._store(ext, _TRISTATE[value[0]])
            elif kind == KconfigType.CHAR:
                self._store(ext, ord(value[0]))
            else:
                raise self._mismatch(ext, value)
        elif value[0] == '"':
            if kind != KconfigType.CHAR_ARRAY or len(value) < 2 or value[-1] != '"':
                raise self._mismatch(ext, value)
            text = value[1:-1].encode()[: ext.size - 1]  # libbpf truncates
            self.data[ext.offset : ext.offset + ext.size] = text.ljust(ext.size, b"\0")
            self.set.add(ext.name)
        else:
            number = _parse_u64(value)
            if number is None or kind not in (KconfigType.INT, KconfigType.CHAR):
                raise self._mismatch(ext, value)
            self._set_number(ext, number)

    def _set_number(self, ext: ExternSpec, value: int) -> None:
        kind = ext.kconfig_type
        value &= _U64
        if kind not in (KconfigType.INT, KconfigType.CHAR, KconfigType.BOOL) or (
            kind == KconfigType.BOOL and value > 1
        ):
            raise self._mismatch(ext, str(value))
        bits = 8 * ext.size
        if bits == 64:
            fits = True
        elif ext.signed:
            fits = (value + (1 << (bits - 1))) & _U64 < 1 << bits
        else:
            fits = value >> bits == 0
        if not fits:
            raise LoadError(f"extern (kconfig) {ext.name!r}: {value} does not fit")
        self._store(ext, value)

    def _store(self, ext: ExternSpec, value: int) -> None:
        raw = (value & ((1 << (8 * ext.size)) - 1)).to_bytes(ext.size, "little")
        self.data[ext.offset : ext.offset + ext.size] = raw
        self.set.add(ext.name)

    @staticmethod
    def _mismatch(ext: ExternSpec, value: str) -> LoadError:
        kind = ext.kconfig_type.value if ext.kconfig_type else "?"
        return LoadError(
            f"extern (kconfig) {ext.name!r}: value {value} does not suit {kind}"
        )


def _parse_u64(text: str) -> int | None:
    """C's ``strtoull(text, &end, 0)`` with nothing left over, or None."""
    match = re.fullmatch(r"\s*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)", text)
    if match is None:
        return None
    sign, digits = match.groups()
    if digits[:2].lower() == "0x":
        value = int(digits, 16)
    elif digits.startswith("0"):
        value = int(digits, 8)
    else:
        value = int(digits)
    if value > _U64:
        return None
    return (-value if sign == "-" else value) & _U64


def resolve_kconfig(
    externs: Iterable[ExternSpec],
    data: bytearray,
    virtual: Mapping[str, Callable[[], int]],
    overrides: Mapping[str, object],
) -> None:
    """Fill ``data`` (the ``.kconfig`` map's bytes) with every ``__kconfig`` value."""
    filler = KconfigFiller(externs, data)
    if not filler.externs:
        return
    filler.set_virtual(virtual)
    if overrides and filler.missing_config:
        filler.apply_config(config_lines(overrides), "kconfig option")
    if filler.missing_config:
        filler.apply_config(read_kernel_config().splitlines(), "kernel config")
    filler.check_resolved()
