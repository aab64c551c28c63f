"""Shrink a finding: fewer mutation steps (delta debugging), then fewer sections.

A candidate still shows the finding when re-running it gives a finding with the
same signature (kind, stage, exception type and code location).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any, TypeVar

from . import mutators
from .campaign import Campaign
from .pool import Pool

T = TypeVar("T")


def ddmin(items: list[T], fails: Callable[[list[T]], bool]) -> list[T]:
    """A smallest-found sublist of ``items`` that still ``fails`` (Zeller's ddmin)."""
    if fails([]):
        return []
    granularity = 2
    while len(items) >= 2:
        size = -(-len(items) // granularity)
        chunks = [items[i : i + size] for i in range(0, len(items), size)]
        for chunk in chunks:
            if fails(chunk):
                items, granularity = chunk, 2
                break
        else:
            for chunk in chunks:
                rest = [x for x in items if all(x is not c for c in chunk)]
                if len(chunks) > 2 and fails(rest):
                    items, granularity = rest, max(granularity - 1, 2)
                    break
            else:
                if granularity >= len(items):
                    break
                granularity = min(len(items), 2 * granularity)
    return items


def run_one(pool: Pool, payload: tuple[Any, ...]) -> dict[str, Any]:
    [(_, result)] = list(pool.run([(0, payload)]))
    return result


def minimize(
    campaign: Campaign, pool: Pool, signature: str, index: int
) -> bytes | None:
    """The smallest object found that shows ``signature``; None when the mutant
    does not show it again (a finding that depends on timing or load)."""
    s = campaign.settings
    real_black = index % s.black_every == 1
    load = index % s.load_every == 0

    def shows(data: bytes) -> bool:
        result = run_one(pool, ("bytes", data, real_black, load))
        return any(f.signature == signature for f in result["findings"])

    seed, steps = campaign.mutant(index)
    if not shows(campaign.mutant_bytes(seed, steps)):
        return None
    steps = ddmin(steps, lambda sub: shows(campaign.mutant_bytes(seed, sub)))
    elf = mutators.build(campaign.seeds[seed][1], steps)
    for section in range(1, len(elf.sections)):
        if not elf.sections[section].data:
            continue
        trial = copy.deepcopy(elf)
        trial.set_data(section, b"")
        if shows(trial.to_bytes()):
            elf = trial
    return elf.to_bytes()
