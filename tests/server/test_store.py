"""The store's schema: what the migrations build is what tables.py declares, on SQLite and on PostgreSQL
(the real server on 127.0.0.1), and a report written on either reads back the same."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from suitescope.server.body import Limits
from suitescope.server.reports import read_report
from suitescope.server.store import Store, open_store, reads
from suitescope.server.store.accounts import create_project
from suitescope.server.store.migrate import head
from suitescope.server.store.tables import metadata
from suitescope.server.store.writes import Tags
from tests.backends import postgres_database
from tests.server.factory import make_report, ndjson


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        made = open_store(f"sqlite:///{tmp_path / 'store.db'}")
        yield made
        made.close()
        return
    with postgres_database() as url:
        made = open_store(url)
        yield made
        made.close()


def test_migrations_build_exactly_the_declared_schema(store: Store) -> None:
    assert store.migrate() == (None, head())
    with store.engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    assert differences == []
    store.check()


def test_a_report_round_trips_and_is_stored_once(store: Store) -> None:
    store.migrate()
    with store.begin() as conn:
        project = create_project(conn, "acme/shop")
    run, tests = make_report(["passed", "failed", "error"])
    tests[0]["db_queries"] = [
        {
            "sql": "SELECT * FROM item WHERE id = ?",
            "fingerprint": "f1",
            "kind": "SELECT",
            "phase": "call",
            "database": "default",
            "count": 6,
            "total_duration_ms": 1.5,
            "params": None,
        }
    ]
    tests[0]["network"] = [
        {
            "kind": "http",
            "scheme": "postgresql+psycopg",  # longer than the 16 characters a first schema allowed
            "host": "api.example.com",
            "port": 443,
            "url": "https://api.example.com/x",
            "loopback": False,
            "phase": "call",
            "count": 2,
        }
    ]
    report = read_report(ndjson(run, tests), "application/x-ndjson", Limits())
    tags = Tags(project.id, project.name)
    assert store.write_report(report, tags) is True
    assert store.write_report(report, tags) is False
    with store.read() as conn:
        _total, stored = reads.run_results(conn, run["run_id"])
        assert [r["status"] for r in stored] == ["passed", "failed", "error"]
        assert stored[0]["net_external"] == 2 and stored[1]["fingerprint"] == "fp1"
        assert conn.exec_driver_sql("SELECT count(*), sum(count) FROM queries").one() == (1, 6)
        trend = reads.project_trend(conn, project.id, None, None, monthly=False)
        assert [(p["runs"], p["passed"], p["failed"], p["error"]) for p in trend] == [(1, 1, 1, 1)]


def test_the_second_migration_keeps_every_row_and_partitions_postgresql_by_month(store: Store) -> None:
    from suitescope.server.store.migrate import upgrade

    upgrade(store.engine, "0001")
    columns = "run_id, seq, test_id, project_id, started_at, attempt, final, status, duration_ms, duration_bucket"
    rows = [
        ("r1", 0, "t1", 1, "2026-09-03T10:00:00.000Z", 1, True, "passed", 1.0, 0),
        ("r1", 1, "t2", 1, "2026-09-03T10:00:00.000Z", 1, True, "failed", 2.0, 0),
        ("r2", 0, "t1", 1, "2026-10-05T10:00:00.000Z", 2, True, "passed", 3.0, 0),  # a retry: evidence
    ]
    with store.engine.begin() as conn:
        for row in rows:
            marks = ", ".join(["%s" if conn.dialect.name == "postgresql" else "?"] * len(row))
            conn.exec_driver_sql(f"INSERT INTO results ({columns}) VALUES ({marks})", row)
    assert store.migrate() == ("0001", head())
    with store.read() as conn:
        kept = conn.exec_driver_sql("SELECT run_id, seq, kept FROM results ORDER BY run_id, seq").all()
        assert [tuple(row) for row in kept] == [("r1", 0, False), ("r1", 1, True), ("r2", 0, True)]
        if conn.dialect.name == "postgresql":
            tables = set(
                conn.exec_driver_sql("SELECT tablename FROM pg_tables WHERE tablename LIKE '%%_2026_%%'").scalars()
            )
            assert {"results_2026_09_raw", "results_2026_09_kept", "queries_2026_10", "network_2026_09"} <= tables
            assert conn.exec_driver_sql("SELECT count(*) FROM ONLY results_2026_09_kept").scalar_one() == 1
    store.check()


def test_a_day_folded_while_a_run_of_it_is_being_stored_counts_the_run_once(store: Store) -> None:
    """The fold waits for the run's transaction (PostgreSQL: an advisory lock the workers share and the fold
    takes alone; SQLite: the single writer), so the run's results are folded by one of the two, never both."""
    import threading
    from datetime import datetime, timedelta, timezone

    from suitescope.server.rollups import fold_test_days
    from suitescope.server.store.writes import write_report

    store.migrate()
    with store.begin() as conn:
        project = create_project(conn, "acme/shop")
    yesterday = datetime.now(timezone.utc) - timedelta(days=1)
    run, tests = make_report(["passed", "failed"], started=yesterday)
    report = read_report(ndjson(run, tests), "application/x-ndjson", Limits())
    day = yesterday.date().isoformat()
    folded: list[int] = []
    with store.begin() as conn:
        write_report(conn, report, Tags(project.id, project.name))
        folding = threading.Thread(target=lambda: folded.append(_fold(store, fold_test_days, day)))
        folding.start()
        folding.join(timeout=1.0)
        assert folding.is_alive(), "the fold did not wait for the run being stored"
    folding.join(timeout=30)
    assert folded == [1]
    with store.read() as conn:
        test_id = reads.run_results(conn, run["run_id"])[1][0]["test_id"]
        (point,) = reads.trend(conn, test_id, None, None, monthly=False)
    assert (point["period"], point["runs"], point["passed"]) == (day, 1, 1)  # once, not twice nor lost


def _fold(store: Store, fold: Any, day: str) -> int:
    with store.begin() as conn:
        return int(fold(conn, day))
