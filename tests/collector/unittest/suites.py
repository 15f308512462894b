"""Suites for the unittest and Django runner tests, written into a temporary project by each test."""

from __future__ import annotations

import re
from typing import Any

# Every unittest outcome, a subtest with two failures, class and module fixtures that fail, a module that
# does not import, the context-manager and nested asserts.
UNITTEST_SUITE = {
    "pkg/__init__.py": "",
    "pkg/test_outcomes.py": '''
import unittest


class Outcomes(unittest.TestCase):
    def setUp(self):
        self.value = 1

    def test_pass(self):
        self.assertEqual(self.value, 1)
        self.assertEqual([1, 2], [1, 2])  # assertEqual calls assertListEqual: one assertion
        self.assertTrue(True)

    def test_fail(self):
        self.assertEqual([1, 2], [1, 3])

    def test_error(self):
        raise ValueError("boom")

    @unittest.skip("not today")
    def test_skip(self):
        pass

    def test_skip_at_runtime(self):
        self.skipTest("decided while running")

    @unittest.expectedFailure
    def test_xfail(self):
        self.assertEqual(1, 2)

    @unittest.expectedFailure
    def test_xpass(self):
        pass

    def test_subtests(self):
        for i in range(4):
            with self.subTest(i=i):
                self.assertLess(i, 2)

    def test_subtest_error(self):
        with self.subTest("lookup", key="a"):
            {}["a"]

    def test_raises(self):
        with self.assertRaises(KeyError):
            {}["a"]
        with self.assertRaises(KeyError):
            pass


class BrokenSetUp(unittest.TestCase):
    def setUp(self):
        raise OSError("setUp broke")

    def test_never_called(self):
        pass


class BrokenTearDown(unittest.TestCase):
    def tearDown(self):
        raise RuntimeError("tearDown broke")

    def test_passes_then_teardown_fails(self):
        self.assertIsNone(None)


class BrokenClass(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        raise RuntimeError("class setup broke")

    def test_one(self):
        pass

    def test_two(self):
        pass


@unittest.skip("whole class")
class SkippedClass(unittest.TestCase):
    def test_skipped(self):
        pass
''',
    "pkg/test_module_fixture.py": '''
import unittest


def tearDownModule():
    raise RuntimeError("module teardown broke")


class Fine(unittest.TestCase):
    def test_fine(self):
        self.assertIn(1, [1])
''',
    "pkg/test_broken_import.py": "import a_module_that_does_not_exist\n",
    "pkg/test_effects.py": '''
import sqlite3
import unittest


class Effects(unittest.TestCase):
    def setUp(self):
        self.db = sqlite3.connect(":memory:")
        self.db.execute("CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT)")

    def tearDown(self):
        self.db.close()

    def test_n_plus_one(self):
        for i in range(6):
            self.db.execute("SELECT name FROM item WHERE id = ?", (i,)).fetchall()
''',
}

SUMMARY = re.compile(r"^(OK|FAILED)(?: \((.*)\))?$", re.MULTILINE)
RAN = re.compile(r"^Ran (\d+) tests? in", re.MULTILINE)
SUMMARY_NAMES = {
    "failures": "failures",
    "errors": "errors",
    "skipped": "skipped",
    "expected failures": "expected_failures",
    "unexpected successes": "unexpected_successes",
}


def unittest_summary(output: str) -> dict[str, int]:
    """unittest's own figures from its last lines: `Ran 12 tests` and `FAILED (failures=3, errors=4, ...)`."""
    ran = RAN.findall(output)
    summary = SUMMARY.findall(output)
    assert ran and summary, f"no unittest summary in:\n{output}"
    figures = dict.fromkeys(SUMMARY_NAMES.values(), 0)
    figures["ran"] = int(ran[-1])
    for part in filter(None, (summary[-1][1] or "").split(", ")):
        name, _, value = part.partition("=")
        figures[SUMMARY_NAMES[name]] = int(value)
    return figures


def figures_from_records(run: dict[str, Any], tests: list[dict[str, Any]]) -> dict[str, int]:
    """unittest's figures, computed from our run record and test records (docs/schema.md says how they map)."""
    counts = run["counts"]
    subtests = [t for t in tests if t["when"] == "subtest"]
    failed_by_subtests = [t for t in tests if t["failure"] and t["failure"]["type"] == "SubTestFailure"]
    assert run["subtests_failed"] == len(subtests)
    return {
        "ran": run["tests"] + run["collection_errors"],
        "failures": counts["failed"] - len(failed_by_subtests) + sum(t["status"] == "failed" for t in subtests),
        "errors": run["errors"] + sum(t["status"] == "error" for t in subtests),
        "skipped": counts["skipped"],
        "expected_failures": counts["xfailed"],
        "unexpected_successes": counts["xpassed"],
    }
