"""The slowest tests are tests: a failed subtest, a class fixture or a file that did not import is not one."""

from __future__ import annotations

from typing import Any

from suitescope.analysis.slow import slowest
from suitescope.schema import records


def record(test_id: str, ms: float, when: str | None = None) -> records.TestRecord:
    fields: dict[str, Any] = {"id": test_id, "duration_ms": ms, "when": when, "final": True}
    return fields  # type: ignore[return-value]  # the fields slowest() reads


def test_records_that_are_not_attempts_are_left_out() -> None:
    tests = [
        record("a.T.test_slow", 30.0),
        record("a.T.test_slow", 0.0, "subtest"),  # a failed subtest of test_slow: not a second run of it
        record("a.Broken", 0.0, "setup_class"),
        record("a.broken_module", 0.0, "collect"),
        record("a.T.test_fast", 10.0),
    ]
    ranked = slowest(tests)
    assert [(t.id, t.runs, t.median_ms) for t in ranked] == [("a.T.test_slow", 1, 30.0), ("a.T.test_fast", 1, 10.0)]
    assert ranked[0].share == 0.75
