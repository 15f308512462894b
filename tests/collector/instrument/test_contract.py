"""The collector contract with every instrument on: a suite that queries, connects and allocates has the same
outcomes, output and exit status with and without them, and a broken instrument costs one summary line."""

from __future__ import annotations

import pytest

from tests.collector.instrument.suites import DB_SUITE, NETWORK_SUITE
from tests.collector.suites import EVERY_OUTCOME, INI
from tests.collector.test_contract import normalised
from tests.conftest import by_id, read_run


@pytest.mark.parametrize("extra", [("-rA",), ("-n", "2")])
def test_instruments_change_nothing(pytester: pytest.Pytester, extra: tuple[str, ...]) -> None:
    pytester.makeini(INI)
    pytester.makepyfile(test_all=EVERY_OUTCOME, test_db=DB_SUITE, test_net=NETWORK_SUITE)
    args = ("-p", "no:cacheprovider", "-p", "no:randomly", *extra)
    plain = pytester.runpytest_subprocess(*args)
    bare = pytester.runpytest_subprocess("--suitescope", "--suitescope-instruments=none", *args)
    full = pytester.runpytest_subprocess("--suitescope", "--suitescope-memory=peak", *args)
    assert plain.ret == bare.ret == full.ret == pytest.ExitCode.TESTS_FAILED
    assert plain.parseoutcomes() == bare.parseoutcomes() == full.parseoutcomes()
    assert sorted(normalised(full.outlines)) == sorted(normalised(plain.outlines))


def test_a_failing_instrument_costs_one_line(pytester: pytest.Pytester, no_strict: None) -> None:
    # In a subprocess: an in-process run would import SQLAlchemy and have pytester drop its modules afterwards,
    # leaving its compiled parts bound to classes that a later import replaces (this broke later tests).
    pytester.makeconftest(
        """
        from suitescope.collector.instrument.effects import Effects

        def broken(*args):
            raise RuntimeError("instrument bug")

        Effects.add_query = broken
        """
    )
    pytester.makepyfile(test_db=DB_SUITE)
    result = pytester.runpytest_subprocess("--suitescope", "-p", "no:randomly")
    result.assert_outcomes(passed=7)
    lines = [line for line in result.outlines if line.startswith("suitescope:")]
    assert lines == [
        "suitescope: instrument sqlite3 disabled after an internal error (RuntimeError: instrument bug); "
        "your tests were not affected",
        "suitescope: instrument sqlalchemy disabled after an internal error (RuntimeError: instrument bug); "
        "your tests were not affected",
    ]
    _, tests = read_run(pytester.path)
    assert by_id(tests)["test_no_queries"]["db"]["count"] == 0  # the records are still written
