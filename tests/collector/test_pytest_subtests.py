"""pytest's own subtests (9.0+): one record per failed block, counted the way pytest's summary counts them."""

from __future__ import annotations

import pytest

from tests.conftest import read_run

SUITE = """
import unittest

class Cases(unittest.TestCase):
    def test_sub(self):
        for i in range(4):
            with self.subTest(i=i):
                self.assertLess(i, 2)

def test_fixture_subtests(subtests):
    for i in range(3):
        with subtests.test(msg="check", i=i):
            assert i != 1

def test_plain():
    assert True
"""


@pytest.mark.parametrize("xdist", [[], ["-n", "2"]])
def test_failed_subtests_are_records_and_counts_match_pytest(pytester: pytest.Pytester, xdist: list[str]) -> None:
    pytester.makepyfile(test_sub=SUITE)
    result = pytester.runpytest_subprocess("--suitescope", "-p", "no:cacheprovider", "-p", "no:randomly", *xdist)
    outcomes = result.parseoutcomes()
    assert (outcomes["failed"], outcomes["passed"]) == (4, 2)
    run, tests = read_run(pytester.path)
    subtests = sorted((t["name"], t["status"], tuple(t["params"].items())) for t in tests if t["when"] == "subtest")
    assert subtests == [
        ("test_fixture_subtests [check] (i=1)", "failed", (("i", "1"),)),
        ("test_sub (i=2)", "failed", (("i", "2"),)),
        ("test_sub (i=3)", "failed", (("i", "3"),)),
    ]
    assert all(t["failure"]["type"] == "AssertionError" for t in tests if t["when"] == "subtest")
    own = {t["name"]: (t["status"], t["failure"] and t["failure"]["message"]) for t in tests if t["when"] != "subtest"}
    assert own == {
        "test_sub": ("passed", None),  # pytest counts a unittest test by its own outcome
        "test_fixture_subtests": ("failed", "contains 1 failed subtest"),  # pytest fails it for its subtests
        "test_plain": ("passed", None),
    }
    assert run["counts"]["failed"] + run["subtests_failed"] == outcomes["failed"]
    assert run["counts"]["passed"] == outcomes["passed"] and run["tests"] == 3


def test_queries_after_a_subtest_stay_in_the_call_phase(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_db="""
        import sqlite3
        import pytest

        @pytest.fixture
        def db():
            conn = sqlite3.connect(":memory:")
            yield conn
            conn.execute("SELECT 'teardown'").fetchall()
            conn.close()

        def test_queries(db, subtests):
            with subtests.test(msg="fails"):
                assert False
            db.execute("SELECT 'after the subtest'").fetchall()
        """
    )
    result = pytester.runpytest_subprocess("--suitescope", "-p", "no:cacheprovider", "-p", "no:randomly")
    assert result.parseoutcomes()["failed"] == 2  # the subtest, and the test pytest fails for it
    _, tests = read_run(pytester.path)
    (test,) = [t for t in tests if t["when"] != "subtest"]
    assert sorted(q["phase"] for q in test["db_queries"]) == ["call", "teardown"]
