"""Memory findings: the tests that leave the most memory behind, or push the process's peak highest."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from suitescope.analysis.queries import final_with
from suitescope.schema.records import TestRecord


@dataclass(frozen=True)
class MemoryUse:
    id: str
    median_growth_kb: float  # what the test left allocated (end - start RSS)
    max_growth_kb: int
    max_peak_rise_kb: int  # highest peak above the RSS at its start
    runs: int


def memory_growth(tests: Iterable[TestRecord], limit: int = 10) -> list[MemoryUse]:
    """Tests by median RSS growth of their final attempts, largest first; tests that grew nothing left out."""
    growth: dict[str, list[int]] = defaultdict(list)
    rise: dict[str, list[int]] = defaultdict(list)
    for test in final_with(tests, "memory"):
        memory = test["memory"]
        assert memory is not None
        if memory["growth_kb"] is None:
            continue
        growth[test["id"]].append(memory["growth_kb"])
        if memory["rss_peak_kb"] is not None and memory["rss_start_kb"] is not None:
            rise[test["id"]].append(memory["rss_peak_kb"] - memory["rss_start_kb"])
    ranked = sorted(growth.items(), key=lambda item: statistics.median(item[1]), reverse=True)
    return [
        MemoryUse(test_id, statistics.median(gs), max(gs), max(rise[test_id], default=0), len(gs))
        for test_id, gs in ranked[:limit]
        if statistics.median(gs) > 0
    ]
