"""The assembler's path for a test whose three phases passed (`Assembler.passed_test`) makes the same records as
its path for one report at a time, whatever surrounds those tests."""

from __future__ import annotations

from typing import Any

import pytest

from suitescope.collector.attempt import Attempt, AttemptEncoder
from suitescope.collector.pytest_assembler import Assembler
from suitescope.collector.pytest_observer import NO_EXTRAS
from tests.collector.suites import EVERY_OUTCOME

PASSING = """
import pytest

@pytest.mark.parametrize("n", range(4))
def test_param(n):
    assert n >= 0

class TestGroup:
    def test_method(self):
        pass
"""


class Reports:
    """Keeps every phase report of a run, in the order pytest logs them."""

    def __init__(self) -> None:
        self.reports: list[pytest.TestReport] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.reports.append(report)


def lines(assemble: Any) -> list[str]:
    """The encoded records an assembler emits when `assemble` feeds it (each with a fixed start and stop, so that
    two assemblers of the same reports write the same lines)."""
    encode = AttemptEncoder("run")
    emitted: list[Attempt] = []
    assemble(Assembler(emitted.append, lambda nodeid: {"name": nodeid.rpartition("::")[2]}))
    return [encode(attempt)[0] for attempt in emitted]


@pytest.mark.parametrize("drop", [None, "[0]", "[3]"])
def test_a_passed_test_at_once_and_report_by_report_make_the_same_records(
    pytester: pytest.Pytester, drop: str | None
) -> None:
    pytester.makepyfile(test_all=EVERY_OUTCOME, test_passing=PASSING)
    kept = Reports()
    pytester.runpytest("-p", "no:randomly", "-p", "no:cacheprovider", plugins=[kept])
    reports = kept.reports
    if drop is not None:  # a teardown report that never came (an interrupted test): the next setup closes it
        reports = [r for r in reports if not (r.when == "teardown" and r.nodeid.endswith(drop))]
    extras = [NO_EXTRAS] * len(reports)
    one_by_one = lines(lambda assembler: [assembler.on_test_report(report) for report in reports])
    together = lines(lambda assembler: assembler.assemble(reports, extras))
    assert together == one_by_one
    assert len(together) >= 9
    assert sum('"status":"passed"' in line for line in together) >= 6


def test_what_the_observer_saw_of_a_teardown_reaches_the_record(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_passing=PASSING)
    kept = Reports()
    pytester.runpytest("-p", "no:randomly", "-p", "no:cacheprovider", plugins=[kept])
    reports = kept.reports
    effects = ('"db":null,"db_queries":null,"network":null,"net_urls":null,"memory":null,"cpu":null', None, None)
    extras = [{"assertions": (3, 0), "effects": effects} if r.when == "teardown" else NO_EXTRAS for r in reports]
    together = lines(lambda assembler: assembler.assemble(reports, extras))
    one_by_one = lines(lambda assembler: [assembler.on_test_report(r, e) for r, e in zip(reports, extras, strict=True)])
    assert together == one_by_one
    assert all('"assertions":{"passed":3,"failed":0}' in line for line in together)
