"""Run summaries derived from test records: the same tallies whether the collector keeps them as tests finish
or a reader rebuilds them from a file whose run record is missing (a run still in progress, or killed)."""

from __future__ import annotations

from dataclasses import dataclass, field

from suitescope.schema.records import STATUSES, TestRecord

# Failure types that are not a raised exception: a failed assert, and pytest failing a strict XPASS.
NOT_EXCEPTIONS = frozenset({"AssertionError", "XPASS(strict)"})


@dataclass
class Tally:
    """Running totals over test records, so the run record needs no second pass."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STATUSES, 0))
    attempts: int = 0
    reruns: int = 0
    tests_duration_ms: float = 0.0
    collection_errors: int = 0
    exceptions: int = 0
    assertions_passed: int | None = 0
    assertions_failed: int = 0
    classes: set[tuple[str | None, str]] = field(default_factory=set)
    modules: set[str] = field(default_factory=set)
    executed: set[str] = field(default_factory=set)

    def add(self, record: TestRecord) -> None:
        if record["when"] == "collect":
            self.collection_errors += 1
            return
        self.attempts += 1
        self.tests_duration_ms += record["duration_ms"]
        passed = record["assertions"]["passed"]
        self.assertions_passed = (
            None if passed is None or self.assertions_passed is None else (self.assertions_passed + passed)
        )
        self.assertions_failed += record["assertions"]["failed"] or 0
        if not record["final"]:
            self.reruns += 1
            return
        self.counts[record["status"]] += 1
        self.executed.add(record["id"])
        failure = record["failure"]
        if failure and record["status"] in ("failed", "error") and failure["type"] not in NOT_EXCEPTIONS:
            self.exceptions += 1
        if record["module"]:
            self.modules.add(record["module"])
        if record["class"]:
            self.classes.add((record["module"], record["class"]))
