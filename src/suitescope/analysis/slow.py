"""Slowest tests: where the suite's time goes, across one run or many."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from suitescope.schema.records import NOT_ATTEMPTS, TestRecord


@dataclass(frozen=True)
class SlowTest:
    id: str
    median_ms: float
    max_ms: float
    runs: int
    share: float  # of the summed duration of every test in the given runs, 0..1


def slowest(tests: Iterable[TestRecord], limit: int = 10) -> list[SlowTest]:
    """Tests by median duration of their final attempts, slowest first."""
    durations: dict[str, list[float]] = defaultdict(list)
    total = 0.0
    for test in tests:
        if test["when"] in NOT_ATTEMPTS:
            continue
        total += test["duration_ms"]
        if test["final"]:
            durations[test["id"]].append(test["duration_ms"])
    ranked = sorted(durations.items(), key=lambda item: statistics.median(item[1]), reverse=True)[:limit]
    return [
        SlowTest(test_id, statistics.median(ds), max(ds), len(ds), sum(ds) / total if total else 0.0)
        for test_id, ds in ranked
    ]
