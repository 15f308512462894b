"""Queries of sqlite3 and SQLAlchemy (sync and async) per test and per phase, against the real libraries."""

from __future__ import annotations

import http.client
import json
import sqlite3
from typing import Any

import pytest

from tests.collector.instrument.suites import DB_SUITE
from tests.conftest import by_id, read_run


def queries(test: dict[str, Any]) -> set[tuple[str, str, int, str]]:
    return {(q["phase"], q["database"], q["count"], q["sql"]) for q in test["db_queries"]}


@pytest.fixture
def db_run(pytester: pytest.Pytester) -> tuple[dict[str, Any], dict[str, dict[str, Any]], dict[str, int]]:
    pytester.makepyfile(test_db=DB_SUITE)
    pytester.runpytest("--suitescope", "-p", "no:cacheprovider").assert_outcomes(passed=7)
    run, tests = read_run(pytester.path)
    seen = json.loads((pytester.path / "sqlalchemy_counts.json").read_text())
    return run, by_id(tests), seen


def test_raw_sqlite3_by_phase_with_n_plus_one(db_run: Any) -> None:
    _, tests, _ = db_run
    test = tests["test_raw_n_plus_one"]
    assert test["db"]["count"] == 10
    assert test["db"]["phases"] == {"setup": 2, "call": 7, "teardown": 1}
    assert queries(test) == {
        ("setup", "sqlite3", 1, "CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT)"),
        ("setup", "sqlite3", 1, "INSERT INTO item (name) VALUES (...)"),  # executemany: one statement
        ("call", "sqlite3", 6, "SELECT name FROM item WHERE id = ?"),
        ("call", "sqlite3", 1, "SELECT count(*) FROM item WHERE name = ?"),  # the literal e-mail is gone
        ("teardown", "sqlite3", 1, "DELETE FROM item WHERE id > ?"),
    }
    [finding] = test["db"]["n_plus_one"]
    assert (finding["sql"], finding["count"]) == ("SELECT name FROM item WHERE id = ?", 6)
    assert all(q["params"] is None for q in test["db_queries"])
    assert "secret@example.com" not in json.dumps(test)


def test_thread_failed_query_and_quiet_tests(db_run: Any) -> None:
    run, tests, _ = db_run
    assert queries(tests["test_raw_in_thread"]) == {
        ("call", "sqlite3", 1, "CREATE TABLE t (id INTEGER)"),
        ("call", "sqlite3", 1, "INSERT INTO t VALUES (...)"),
    }
    assert ("call", "sqlite3", 1, "SELECT * FROM missing_table") in queries(tests["test_raw_error"])
    assert tests["test_no_queries"]["db"] == {
        "count": 0,
        "duration_ms": 0.0,
        "phases": {"setup": 0, "call": 0, "teardown": 0},
        "n_plus_one": [],
        "shapes_dropped": 0,
    }
    assert run["effects"]["db_queries"] == sum(t["db"]["count"] for t in tests.values())
    assert run["effects"]["n_plus_one_tests"] == 2


@pytest.mark.parametrize("name", ["test_sqlalchemy_sync", "test_sqlalchemy_async"])
def test_sqlalchemy_counts_match_its_own_events_and_are_not_doubled(db_run: Any, name: str) -> None:
    _, tests, seen = db_run
    test = tests[name]
    ours = sum(q["count"] for q in test["db_queries"] if q["database"] == "sqlalchemy:sqlite")
    assert ours == seen[name] > 0
    # SQLAlchemy's connections are its own: the sqlite3 driver below it records nothing of them. aiosqlite's
    # are not (suites use aiosqlite directly too), so the one statement SQLAlchemy's dialect runs outside its
    # events on connect is seen there, once, and no statement is counted twice.
    raw = [q["sql"] for q in test["db_queries"] if q["database"] != "sqlalchemy:sqlite"]
    assert raw == ([] if name == "test_sqlalchemy_sync" else ["PRAGMA read_uncommitted"])


def test_sqlalchemy_shapes(db_run: Any) -> None:
    _, tests, _ = db_run
    assert ("call", "sqlalchemy:sqlite", 3, "INSERT INTO t VALUES (...)") in queries(tests["test_sqlalchemy_sync"])
    assert ("call", "sqlalchemy:sqlite", 1, "SELECT * FROM t WHERE id IN (...)") in queries(
        tests["test_sqlalchemy_sync"]
    )
    async_test = tests["test_sqlalchemy_async"]
    assert ("call", "sqlalchemy:sqlite", 5, "SELECT id FROM t WHERE id = ?") in queries(async_test)
    assert [f["count"] for f in async_test["db"]["n_plus_one"]] == [5]


def test_params_only_when_asked(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_db=DB_SUITE)
    pytester.runpytest("--suitescope", "--suitescope-sql-params", "-k", "n_plus_one").assert_outcomes(passed=1)
    _, tests = read_run(pytester.path)
    samples = {q["sql"]: q["params"] for q in tests[0]["db_queries"]}
    assert samples["SELECT name FROM item WHERE id = ?"] == ["(0,)"]


def test_threshold_option(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_db=DB_SUITE)
    pytester.runpytest("--suitescope", "--suitescope-n-plus-one=7", "-k", "n_plus_one").assert_outcomes(passed=1)
    _, tests = read_run(pytester.path)
    assert tests[0]["db"]["n_plus_one"] == []


def test_instruments_off_gives_nulls(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_db=DB_SUITE)
    pytester.runpytest("--suitescope", "--suitescope-instruments=none").assert_outcomes(passed=7)
    run, tests = read_run(pytester.path)
    fields = ("db", "db_queries", "network", "net_urls", "memory", "cpu")
    assert all(test[field] is None for test in tests for field in fields)
    assert run["effects"] == {
        "db_queries": None,
        "db_duration_ms": None,
        "n_plus_one_tests": None,
        "external_network_tests": None,
    }


def test_only_the_chosen_instruments_run(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_db=DB_SUITE)
    pytester.runpytest("--suitescope", "--suitescope-instruments=net, MEM").assert_outcomes(passed=7)
    _, tests = read_run(pytester.path)
    assert all(t["db"] is None and t["network"] == [] and t["memory"] is not None for t in tests)


def test_a_bad_choice_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_db=DB_SUITE)
    result = pytester.runpytest("--suitescope", "--suitescope-instruments=db,disk")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*suitescope: unknown instrument disk: choose from db, net, mem, all or none*"])


def listeners() -> tuple[int, int]:
    """How many listeners a new engine has for the events the instrument uses."""
    from sqlalchemy import create_engine

    dispatch = create_engine("sqlite://").dispatch
    return len(dispatch.before_cursor_execute), len(dispatch.after_cursor_execute)


def test_everything_patched_is_restored(pytester: pytest.Pytester) -> None:
    import socket

    import psycopg

    def patchable() -> tuple[object, ...]:
        return (
            sqlite3.connect,
            sqlite3.dbapi2.connect,
            http.client.HTTPConnection.putrequest,
            psycopg.Cursor.execute,
            psycopg.connect,
            socket.socket.connect,
            socket.socket.connect_ex,
            socket.getaddrinfo,
        )

    before = patchable()
    engine_listeners = listeners()
    pytester.makepyfile(test_db=DB_SUITE)
    pytester.runpytest("--suitescope").assert_outcomes(passed=7)
    assert patchable() == before
    assert listeners() == engine_listeners


THREADS = """
import sqlite3
import threading

def test_many_threads(tmp_path):
    def work(n):
        conn = sqlite3.connect(tmp_path / f"{n}.db")
        for i in range(50):
            conn.execute("SELECT ?", (i,))
        conn.close()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
"""


def test_queries_from_many_threads_are_all_counted(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_threads=THREADS)
    pytester.runpytest("--suitescope").assert_outcomes(passed=1)
    _, [test] = read_run(pytester.path)
    assert queries(test) == {("call", "sqlite3", 400, "SELECT ?")}


PSYCOPG = """
import asyncio

import psycopg

DSN = "host=127.0.0.1 user=postgres dbname=postgres"

def test_sync():
    with psycopg.connect(DSN) as conn:
        for i in range(6):
            conn.execute("SELECT %s::int AS n", (i,)).fetchone()
        with conn.cursor() as cursor:
            cursor.executemany("SELECT %s", [(1,), (2,)])

def test_async():
    async def main():
        async with await psycopg.AsyncConnection.connect(DSN) as conn:
            for i in range(3):
                await (await conn.execute("SELECT %s::text", (str(i),))).fetchone()

    asyncio.run(main())
"""


def test_psycopg_used_directly_on_the_real_server(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_pg=PSYCOPG)
    pytester.runpytest("--suitescope", "-p", "no:randomly").assert_outcomes(passed=2)
    _, tests = read_run(pytester.path)
    found = by_id(tests)
    assert queries(found["test_sync"]) == {
        ("call", "psycopg", 6, "SELECT ?::int AS n"),
        ("call", "psycopg", 1, "SELECT ?"),  # executemany: one statement
    }
    assert [f["count"] for f in found["test_sync"]["db"]["n_plus_one"]] == [6]
    assert queries(found["test_async"]) == {("call", "psycopg", 3, "SELECT ?::text")}
