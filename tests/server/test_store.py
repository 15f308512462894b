"""The store's schema: what the migrations build is what tables.py declares, on SQLite and on PostgreSQL
(the real server on 127.0.0.1), and a report written on either reads back the same."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

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
