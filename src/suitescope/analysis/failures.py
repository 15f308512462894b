"""Failures grouped by fingerprint: one row per distinct way of failing, across tests and runs."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from suitescope.schema.records import TestRecord


@dataclass
class FailureGroup:
    fingerprint: str
    type: str
    message: str  # the most recent occurrence's
    count: int = 0
    tests: set[str] = field(default_factory=set)
    runs: set[str] = field(default_factory=set)
    first_seen: str | None = None
    last_seen: str | None = None


def group_failures(tests: Iterable[TestRecord]) -> list[FailureGroup]:
    """Groups of failed and errored attempts (retried ones included), most frequent first."""
    groups: dict[str, FailureGroup] = {}
    for test in tests:
        failure = test["failure"]
        if failure is None or test["status"] not in ("failed", "error"):
            continue
        group = groups.setdefault(
            failure["fingerprint"], FailureGroup(failure["fingerprint"], failure["type"], failure["message"])
        )
        group.count += 1
        group.tests.add(test["id"])
        group.runs.add(test["run_id"])
        seen = test["start_time"]
        if seen is not None:
            if group.first_seen is None or seen < group.first_seen:
                group.first_seen = seen
            if group.last_seen is None or seen >= group.last_seen:
                group.last_seen, group.message = seen, failure["message"]
    return sorted(groups.values(), key=lambda g: (-g.count, g.type))
