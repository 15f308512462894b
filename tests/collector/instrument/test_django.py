"""Django's queries on every alias and thread, on SQLite and on the real PostgreSQL server, without changing
Django's own query logging."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from tests.collector.instrument.suites import DJANGO_APP, DJANGO_CONFTEST, DJANGO_TESTS
from tests.conftest import by_id, read_run


@pytest.fixture
def postgres_name() -> Iterator[str]:
    """A database name of this test's own; Django creates and drops `test_<name>` itself."""
    name = f"suitescope_{uuid.uuid4().hex[:12]}"
    yield name
    with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "test_{name}"')


def run_django(pytester: pytest.Pytester, database: str, name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    pytester.makeconftest(DJANGO_CONFTEST)
    for path, text in DJANGO_APP.items():
        target = pytester.path / path
        target.parent.mkdir(exist_ok=True)
        target.write_text(text)
    pytester.makepyfile(test_django=DJANGO_TESTS)
    env = {"DJANGO_DB": database, "DJANGO_DB_NAME": name}
    os.environ.update(env)
    try:
        result = pytester.runpytest_subprocess("--suitescope", "-p", "no:cacheprovider", "-p", "no:randomly")
    finally:
        for key in env:
            os.environ.pop(key)
    result.assert_outcomes(passed=4)
    run, tests = read_run(pytester.path)
    return run, by_id(tests)


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_django_queries(pytester: pytest.Pytester, postgres_name: str, database: str) -> None:
    _, tests = run_django(pytester, database, postgres_name)
    vendor_select = 'SELECT "shop_book"."id", "shop_book"."title", "shop_book"."author_id" FROM "shop_book" WHERE'

    n_plus_one = tests["test_n_plus_one"]
    call = [q for q in n_plus_one["db_queries"] if q["phase"] == "call" and q["database"] == "default"]
    per_author = [q for q in call if q["sql"].startswith(vendor_select)]
    assert [q["count"] for q in per_author] == [6]
    captured = json.loads((pytester.path / "django_counts.json").read_text())["captured"]
    selects = sum(q["count"] for q in call if q["kind"] == "SELECT")
    assert captured == selects == 7  # Django's own count of the loop: 1 for the authors, 6 for their books
    assert sum(q["count"] for q in call if q["kind"] == "INSERT") == 6
    assert [f["count"] for f in n_plus_one["db"]["n_plus_one"]] == [6]

    other = tests["test_other_alias"]
    assert {(q["database"], q["kind"]) for q in other["db_queries"] if q["phase"] == "call"} >= {
        ("other", "INSERT"),
        ("other", "SELECT"),
    }

    threaded = tests["test_thread_connection"]
    assert any(q["sql"].startswith('SELECT ? AS "a" FROM "shop_book"') for q in threaded["db_queries"])

    live = tests["test_view_queries_in_the_server_thread"]
    view_query = [q for q in live["db_queries"] if 'FROM "shop_author" WHERE' in q["sql"] and q["kind"] == "SELECT"]
    assert [(q["phase"], q["count"]) for q in view_query] == [("call", 1)]
    [request] = [call for call in live["network"] if call["kind"] == "http"]
    assert request["url"].endswith("/authors/") and request["loopback"] and "token" not in request["url"]
