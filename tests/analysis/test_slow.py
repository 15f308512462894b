"""The slowest tests are tests: a failed subtest, a class fixture or a file that did not import is not one."""

from __future__ import annotations

import copy
from typing import Any

from suitescope.analysis.history import from_runs
from suitescope.analysis.runs import Run
from suitescope.analysis.slow import slowest
from tests.server.factory import TEST


def record(test_id: str, ms: float, when: str | None = None) -> Any:
    made = copy.deepcopy(TEST)
    made.update(run_id="r1", id=test_id, name=test_id, file="a.py", status="passed", when=when, duration_ms=ms)
    return made


def test_records_that_are_not_attempts_are_left_out() -> None:
    tests = [
        record("a.T.test_slow", 30.0),
        record("a.T.test_slow", 0.0, "subtest"),  # a failed subtest of test_slow: not a second run of it
        record("a.Broken", 0.0, "setup_class"),
        record("a.broken_module", 0.0, "collect"),
        record("a.T.test_fast", 10.0),
    ]
    ranked = slowest(from_runs([Run("r1", None, tests)]))
    assert [(t.id, t.runs, t.median_ms) for t in ranked] == [("a.T.test_slow", 1, 30.0), ("a.T.test_fast", 1, 10.0)]
    assert ranked[0].share == 0.75
