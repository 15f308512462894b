"""Slowest tests: where the suite's time goes, across one run or many (rows of `analysis.history`)."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from suitescope.analysis.history import INFRA_PHASES, Outcome


@dataclass(frozen=True)
class SlowTest:
    id: str
    median_ms: float
    max_ms: float
    runs: int
    share: float  # of the summed duration of every test in the given runs, 0..1


def slowest(outcomes: Iterable[Outcome], limit: int = 10) -> list[SlowTest]:
    """Tests by median duration of their final attempts, slowest first (a file that did not import is no test)."""
    durations: dict[str, list[float]] = defaultdict(list)
    total = 0.0
    for o in outcomes:
        if o.phase in INFRA_PHASES:
            continue
        total += o.duration_ms
        if o.final:
            durations[o.test].append(o.duration_ms)
    ranked = sorted(durations.items(), key=lambda item: statistics.median(item[1]), reverse=True)[:limit]
    return [
        SlowTest(test_id, statistics.median(ds), max(ds), len(ds), sum(ds) / total if total else 0.0)
        for test_id, ds in ranked
    ]
