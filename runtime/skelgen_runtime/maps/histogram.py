"""Log2 and linear histograms printed exactly as bcc's ``print_log2_hist`` and
``print_linear_hist`` print them — what users of bcc tools expect to read.

A histogram comes from a map of buckets (slot → count), a mapping or a list of counts.
A map whose keys are structures holds several histograms: the key's first field
names the section, the next (padding aside) the slot, as bcc reads such keys.
Formatting is pure; :func:`print_log2_hist` and :func:`print_linear_hist` print.

Log2 slots come in two conventions, one slot apart (``slots=``): bcc's
``bpf_log2l()`` puts ``v`` in slot ``floor(log2(v)) + 1`` (``"bcc"``, the default);
libbpf-tools' ``log2l()`` (``bits.bpf.h``) in slot ``floor(log2(v))``
(``"libbpf-tools"``).  Both print the same text for the same values.  The BPF side
of both is ``skelgen/hist.bpf.h``, on ``skelgen compile``'s include path.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Mapping, Sequence

from ..lean.hints import Any, Literal, Protocol, TextIO, TypedDict

SlotConvention = Literal["bcc", "libbpf-tools"]

STARS_MAX = 40
LOG2_SLOTS = 65  # bpf_log2l() of any 64-bit value
LINEAR_SLOTS = 1025


def stars(value: int, value_max: int, width: int) -> str:
    """A bar of ``width * value / value_max`` stars (at most ``width``); a value
    above the maximum ends in ``+``."""
    text = "*" * min(width, width * value // value_max) if value_max > 0 else ""
    if value > value_max:
        text = text[:-1] + "+"
    return text


def _last_used(counts: Sequence[int]) -> tuple[int, int]:
    """(index of the last non-zero count or -1, the largest count)."""
    last = max((i for i, v in enumerate(counts) if v > 0), default=-1)
    return last, max(counts, default=0)


def log2_slot(value: int, slots: SlotConvention = "bcc") -> int:
    """The slot a value falls in, as ``skelgen/hist.bpf.h`` computes it
    (``hist_slot_bcc()`` or ``hist_slot()``), without the cap at the last slot."""
    floor_log2 = max(value.bit_length() - 1, 0)
    return floor_log2 + 1 - _bcc_offset(slots)


def _bcc_offset(slots: str) -> int:
    """How many slots ``slots``' indices lie below bcc's."""
    if slots == "bcc":
        return 0
    if slots == "libbpf-tools":
        return 1
    raise ValueError(f"slots must be 'bcc' or 'libbpf-tools', not {slots!r}")


def format_log2_hist(
    counts: Sequence[int],
    val_type: str = "value",
    strip_leading_zero: bool = False,
    *,
    slots: SlotConvention = "bcc",
) -> str:
    """``counts[i]`` counts the values of slot ``i``.  With ``slots="bcc"`` slot ``i``
    covers ``2**(i-1)`` to ``2**i - 1`` (slot 1 is ``0 -> 1``; slot 0 is not printed);
    with ``slots="libbpf-tools"`` slot ``i`` covers ``2**i`` to ``2**(i+1) - 1``
    (slot 0 is ``0 -> 1``)."""
    counts = [0] * _bcc_offset(slots) + list(counts)
    last, value_max = _last_used(counts)
    if last <= 32:
        header = "     %-19s : count     distribution"
        body = "%10d -> %-10d : %-8d |%-*s|"
        width = STARS_MAX
    else:
        header = "               %-29s : count     distribution"
        body = "%20d -> %-20d : %-8d |%-*s|"
        width = STARS_MAX // 2
    lines = [header % val_type] if last > 0 else []
    for i in range(1, last + 1):
        low, high = (1 << i) >> 1, (1 << i) - 1
        if low == high:
            low -= 1
        value = counts[i]
        if strip_leading_zero and not value:
            continue
        strip_leading_zero = False
        lines.append(body % (low, high, value, width, stars(value, value_max, width)))
    return "".join(line + "\n" for line in lines)


def format_linear_hist(
    counts: Sequence[int],
    val_type: str = "value",
    strip_leading_zero: bool = False,
    *,
    slots: SlotConvention = "bcc",
) -> str:
    """``counts[i]`` is the count of value ``i`` (``slots`` is for the signature's
    sake: linear slots have one convention)."""
    _bcc_offset(slots)
    last, value_max = _last_used(counts)
    header = "     %-13s : count     distribution"
    body = "        %-10d : %-8d |%-*s|"
    lines = [header % val_type] if last >= 0 else []
    for i in range(last + 1):
        value = counts[i]
        if strip_leading_zero and not value:
            continue
        strip_leading_zero = False
        lines.append(body % (i, value, STARS_MAX, stars(value, value_max, STARS_MAX)))
    return "".join(line + "\n" for line in lines)


def _count(value: Any) -> int:
    """A bucket's count: an int, a per-CPU list (summed) or a ctypes number."""
    if isinstance(value, int):
        return value
    if isinstance(value, list):
        return sum(value)
    return int(value.value)


def _key_fields(key: Any) -> tuple[str, str]:
    names = [f[0] for f in type(key)._fields_ if not f[0].startswith("_")]
    if len(names) < 2:
        raise ValueError(
            f"histogram key {type(key).__name__} needs a section and a slot"
        )
    return names[0], names[1]


def _histograms(
    source: Any, slots: int, bucket_fn: Callable[[Any], Any] | None
) -> dict[Any, list[int]]:
    """Counts by section (None when the keys are plain slots)."""
    if isinstance(source, Sequence):
        return {None: list(source)}
    items: Iterable[tuple[Any, Any]] = source.items()
    out: dict[Any, list[int]] = {}
    for key, value in items:
        if isinstance(key, int):
            section, slot = None, key
        else:
            section_field, slot_field = _key_fields(key)
            section, slot = getattr(key, section_field), getattr(key, slot_field)
            if bucket_fn is not None:
                section = bucket_fn(section)
        counts = out.setdefault(section, [0] * slots)
        if not 0 <= slot < slots:
            raise ValueError(f"histogram slot {slot} is beyond the last ({slots - 1})")
        counts[slot] = _count(value)
    return out or {None: []}


class HistOptions(TypedDict, total=False):
    """The options of the printers after ``val_type`` (bcc's names), typed so that
    a misspelled one is a mypy error in ``Map.print_log2_hist(..., **options)``."""

    section_header: str
    section_print_fn: Callable[[Any], str] | None
    bucket_fn: Callable[[Any], Any] | None
    strip_leading_zero: bool
    bucket_sort_fn: Callable[[list[Any]], list[Any]] | None
    file: TextIO | None
    slots: SlotConvention


class _Formatter(Protocol):
    def __call__(
        self,
        counts: Sequence[int],
        val_type: str,
        strip_leading_zero: bool,
        *,
        slots: SlotConvention,
    ) -> str: ...


def _print(
    format_one: _Formatter,
    max_slots: int,
    source: Sequence[int] | Mapping[Any, Any] | Any,
    val_type: str,
    section_header: str,
    section_print_fn: Callable[[Any], str] | None,
    bucket_fn: Callable[[Any], Any] | None,
    strip_leading_zero: bool,
    bucket_sort_fn: Callable[[list[Any]], list[Any]] | None,
    file: TextIO | None,
    slots: SlotConvention,
) -> None:
    _bcc_offset(slots)  # a bad convention fails before anything is printed
    out = file if file is not None else sys.stdout
    histograms = _histograms(source, max_slots, bucket_fn)
    sections = list(histograms)
    if bucket_sort_fn is not None:
        sections = bucket_sort_fn(sections)
    for section in sections:
        if section is not None:
            shown = section_print_fn(section) if section_print_fn else repr(section)
            out.write(f"\n{section_header} = {shown}\n")
        text = format_one(
            histograms[section], val_type, strip_leading_zero, slots=slots
        )
        out.write(text)


def print_log2_hist(
    source: Sequence[int] | Mapping[Any, Any] | Any,
    val_type: str = "value",
    section_header: str = "Bucket ptr",
    section_print_fn: Callable[[Any], str] | None = None,
    bucket_fn: Callable[[Any], Any] | None = None,
    strip_leading_zero: bool = False,
    bucket_sort_fn: Callable[[list[Any]], list[Any]] | None = None,
    file: TextIO | None = None,
    *,
    slots: SlotConvention = "bcc",
) -> None:
    """bcc's ``table.print_log2_hist``: ``source`` is a map (or mapping) of log2
    slots to counts, or a list of counts; ``slots`` says which convention filled it
    (``"bcc"``: ``bpf_log2l()``, ``hist_slot_bcc()``; ``"libbpf-tools"``:
    ``log2l()``, ``hist_slot()``)."""
    _print(
        format_log2_hist, LOG2_SLOTS, source, val_type, section_header,
        section_print_fn, bucket_fn, strip_leading_zero, bucket_sort_fn, file, slots,
    )  # fmt: skip


def print_linear_hist(
    source: Sequence[int] | Mapping[Any, Any] | Any,
    val_type: str = "value",
    section_header: str = "Bucket ptr",
    section_print_fn: Callable[[Any], str] | None = None,
    bucket_fn: Callable[[Any], Any] | None = None,
    strip_leading_zero: bool = False,
    bucket_sort_fn: Callable[[list[Any]], list[Any]] | None = None,
    file: TextIO | None = None,
    *,
    slots: SlotConvention = "bcc",
) -> None:
    """bcc's ``table.print_linear_hist``: ``source`` maps values to counts."""
    _print(
        format_linear_hist, LINEAR_SLOTS, source, val_type, section_header,
        section_print_fn, bucket_fn, strip_leading_zero, bucket_sort_fn, file, slots,
    )  # fmt: skip
