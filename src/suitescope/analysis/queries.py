"""Database findings: the tests that query most, and N+1 patterns, across one run or many."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from suitescope.schema.records import NOT_ATTEMPTS, TestRecord


@dataclass(frozen=True)
class QueryHeavy:
    id: str
    median_queries: float
    max_queries: int
    median_db_ms: float
    runs: int


@dataclass
class NPlusOneFinding:
    """One SELECT shape repeated in one test, with the runs it was seen in as evidence."""

    id: str
    fingerprint: str
    sql: str
    max_count: int
    runs: list[str] = field(default_factory=list)


def final_with(tests: Iterable[TestRecord], key: Literal["db", "network", "memory"]) -> Iterable[TestRecord]:
    """Final attempts that carry the instrument field `key` (older records and runs with it off do not)."""
    return (t for t in tests if t["final"] and t.get(key) is not None and t["when"] not in NOT_ATTEMPTS)


def most_queries(tests: Iterable[TestRecord], limit: int = 10) -> list[QueryHeavy]:
    """Tests by median query count of their final attempts, most first; tests without queries left out."""
    counts: dict[str, list[int]] = defaultdict(list)
    times: dict[str, list[float]] = defaultdict(list)
    for test in final_with(tests, "db"):
        db = test["db"]
        assert db is not None
        counts[test["id"]].append(db["count"])
        times[test["id"]].append(db["duration_ms"])
    ranked = sorted(counts.items(), key=lambda item: statistics.median(item[1]), reverse=True)
    return [
        QueryHeavy(test_id, statistics.median(cs), max(cs), statistics.median(times[test_id]), len(cs))
        for test_id, cs in ranked[:limit]
        if max(cs) > 0
    ]


def n_plus_one(tests: Iterable[TestRecord]) -> list[NPlusOneFinding]:
    """Every (test, query shape) N+1 finding, worst first, with the runs that showed it."""
    found: dict[tuple[str, str], NPlusOneFinding] = {}
    for test in final_with(tests, "db"):
        db = test["db"]
        assert db is not None
        for finding in db["n_plus_one"]:
            key = (test["id"], finding["fingerprint"])
            entry = found.setdefault(key, NPlusOneFinding(test["id"], finding["fingerprint"], finding["sql"], 0))
            entry.max_count = max(entry.max_count, finding["count"])
            if test["run_id"] not in entry.runs:
                entry.runs.append(test["run_id"])
    return sorted(found.values(), key=lambda f: (-f.max_count, f.id))
