"""Suites for the unittest and Django runner tests, written into a temporary project by each test."""

from __future__ import annotations

import re
from typing import Any

from tests.collector.instrument.suites import DJANGO_APP

# Every unittest outcome, a subtest with two failures, class and module fixtures that fail, a module that
# does not import, the context-manager and nested asserts.
UNITTEST_SUITE = {
    "pkg/__init__.py": "",
    "pkg/test_outcomes.py": """
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
""",
    "pkg/test_module_fixture.py": """
import unittest


def tearDownModule():
    raise RuntimeError("module teardown broke")


class Fine(unittest.TestCase):
    def test_fine(self):
        self.assertIn(1, [1])
""",
    "pkg/test_broken_import.py": "import a_module_that_does_not_exist\n",
    "pkg/test_effects.py": """
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
""",
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


# A Django project with two databases (`default`, `other`): SQLite files, or PostgreSQL when DJANGO_DB=postgresql
# (DJANGO_DB_NAME names the databases; Django makes `test_<name>` and its clones).
DJANGO_PROJECT = {
    "manage.py": """
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "site_settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
""",
    "site_settings.py": """
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
SECRET_KEY = "not-a-secret"
INSTALLED_APPS = ["library"]
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
NAME = os.environ.get("DJANGO_DB_NAME", "library")
if os.environ.get("DJANGO_DB") == "postgresql":
    def database(name):
        return {"ENGINE": "django.db.backends.postgresql", "NAME": name, "USER": "postgres", "HOST": "127.0.0.1",
                "TEST": {"NAME": f"test_{name}"}}
else:
    def database(name):
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": str(BASE_DIR / f"{name}.sqlite3")}
DATABASES = {"default": database(NAME), "other": database(f"{NAME}_other")}
""",
    "library/__init__.py": "",
    "library/models.py": DJANGO_APP["shop/models.py"],  # Author and Book, as the instrument tests have them
    "library/tests/__init__.py": "",
    "library/tests/test_books.py": """
import unittest

from django.test import SimpleTestCase, TestCase, tag

from library.models import Author, Book


class BookTests(TestCase):
    databases = {"default", "other"}

    @classmethod
    def setUpTestData(cls):
        for i in range(6):
            Book.objects.create(title=f"book {i}", author=Author.objects.create(name=f"author {i}"))

    def test_n_plus_one(self):
        titles = [book.title for author in Author.objects.all() for book in author.book_set.all()]
        self.assertEqual(len(titles), 6)

    def test_other_alias(self):
        self.assertEqual(Author.objects.using("other").count(), 0)

    @tag("slow")
    def test_tagged(self):
        self.assertTrue(Author.objects.exists())

    def test_fail(self):
        self.assertEqual(Author.objects.count(), 7)

    def test_error(self):
        Author.objects.get(name="nobody")

    def test_num_queries(self):
        with self.assertNumQueries(1):
            list(Author.objects.all())

    @unittest.skip("not now")
    def test_skip(self):
        pass

    @unittest.expectedFailure
    def test_xfail(self):
        self.assertEqual(1, 2)

    def test_subtests(self):
        for i in range(3):
            with self.subTest(i=i):
                self.assertNotEqual(i, 1)


class BrokenData(TestCase):
    @classmethod
    def setUpTestData(cls):
        raise RuntimeError("fixture data broke")

    def test_never_runs(self):
        pass


class Plain(SimpleTestCase):
    def test_simple(self):
        self.assertIn("a", "abc")

    def test_contains(self):
        self.assertInHTML("<b>x</b>", "<p><b>x</b></p>")
""",
}
