"""Store one report: its run, its tests' identities, results, queries and network calls, in one transaction.

Idempotent by run_id: a run already stored is not written again, so a report sent twice, or a job the worker
processes a second time after a crash between commit and acknowledgement, is stored once.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Container
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection, insert, select

from suitescope.schema.records import NOT_ATTEMPTS
from suitescope.server.clock import normalise, now_iso
from suitescope.server.reports import Report
from suitescope.server.rollups import duration_bucket, fold_run
from suitescope.server.store.dialect import bulk_insert
from suitescope.server.store.partitions import ensure_month
from suitescope.server.store.tables import network, queries, results, runs, tests


@functools.lru_cache(maxsize=200_000)
def test_id(project: str, nodeid: str) -> str:
    """A test's identity in the store: the same for the same project and test id, on every server. (Cached:
    the same suite comes back run after run, and a hash per result stored adds up.)"""
    return hashlib.sha256(f"{project}\0{nodeid}".encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Tags:
    """What the ingest request adds to a report: its project, and labels the report may not carry itself."""

    project_id: int
    project: str
    source: str = "suitescope"
    environment: str | None = None
    branch: str | None = None
    commit: str | None = None


def write_report(conn: Connection, report: Report, tags: Tags, known: Container[str] = ()) -> TestRows | None:
    """Store a report; None when its run was already stored (nothing is written then), else the rows written.

    `known` holds test ids already in the store (a worker's cache): their identity rows are not sent again.
    Rows go in as tuples through the driver's executemany, the fastest path both SQLite and PostgreSQL have.
    """
    if conn.execute(select(runs.c.run_id).where(runs.c.run_id == report.run_id)).first():
        return None
    started = normalise(report.run["started"])
    run = run_row(report, tags, started)
    conn.execute(insert(runs).values(run))
    rows = test_rows(report, tags, started)
    new_tests = [row for tid, row in rows.identities.items() if tid not in known]
    ensure_month(conn, started[:7])
    bulk_insert(conn, tests, TEST_COLUMNS, new_tests, ignore_existing=True)
    bulk_insert(conn, results, RESULT_COLUMNS, rows.results)
    bulk_insert(conn, queries, QUERY_COLUMNS, rows.queries)
    bulk_insert(conn, network, NETWORK_COLUMNS, rows.network)
    fold_run(conn, report.run_id, run)
    return rows


def run_row(report: Report, tags: Tags, started: str) -> dict[str, Any]:
    run = report.run
    env = run["environment"]
    ci, git = env.get("ci") or {}, env.get("git") or {}
    counts = run["counts"]
    coverage = run.get("coverage")
    framework = env["framework"]
    return {
        "run_id": run["run_id"],
        "project_id": tags.project_id,
        "source": tags.source,
        "received_at": now_iso(),
        "started_at": started,
        "finished_at": normalise(run["finished"]) if run.get("finished") else None,
        "duration_ms": run.get("duration_ms"),
        "tests_duration_ms": run["tests_duration_ms"],
        "state": run["state"],
        "exit_status": run.get("exit_status"),
        "branch": tags.branch or ci.get("branch") or git.get("branch"),
        "commit_sha": tags.commit or ci.get("commit") or git.get("commit"),
        "environment": tags.environment or ("ci" if env.get("ci") else "local"),
        "tests": run["tests"],
        "attempts": run["attempts"],
        **{status: counts[status] for status in ("passed", "failed", "error", "skipped", "xfailed", "xpassed")},
        "reruns": run["reruns"],
        "collection_errors": run["collection_errors"],
        "tests_expected": run.get("tests_expected"),
        "assertions": run["assertions"].get("total"),
        "db_queries": (run.get("effects") or {}).get("db_queries"),
        "peak_rss_kb": run["memory"].get("peak_rss_kb"),
        "coverage_pct": coverage["percent"] if coverage else None,
        # A JUnit report knows no Python, OS or arch: unknown stays None, never an empty value in breakdowns.
        "python_version": ".".join(env["python"]["version"].split(".")[:2]) or None,
        "python_impl": env["python"]["implementation"] or None,
        "framework": framework["name"],
        "framework_version": framework.get("version"),
        "os": env["os"]["name"] or None,
        "arch": env["arch"] or None,
        "ci": ci.get("provider") if ci else None,
        "record": run,
    }


Row = tuple[Any, ...]

RESULT_COLUMNS = [column.name for column in results.c]
QUERY_COLUMNS = [column.name for column in queries.c]
NETWORK_COLUMNS = [column.name for column in network.c]
TEST_COLUMNS = [column.name for column in tests.c]
_NET_FIELDS = ("kind", "scheme", "host", "port", "url", "loopback", "phase")


@dataclass
class TestRows:
    """A report's rows for each table, as tuples in the tables' column order (bulk_insert takes them as is)."""

    identities: dict[str, Row]
    results: list[Row]
    queries: list[Row]
    network: list[Row]


def test_rows(report: Report, tags: Tags, started: str) -> TestRows:
    rows = TestRows({}, [], [], [])
    run_id, project_id = report.run_id, tags.project_id
    for seq, record in enumerate(report.tests):
        nodeid = record["id"]
        tid = test_id(tags.project, nodeid)
        if tid not in rows.identities:
            rows.identities[tid] = (
                tid,
                project_id,
                nodeid,
                record["name"],
                record.get("class"),
                record.get("module"),
                record.get("file"),
                started,
            )
        rows.results.append(result_row(record, run_id, seq, tid, project_id, started))
        for q in record.get("db_queries") or ():
            rows.queries.append(
                (
                    run_id,
                    seq,
                    tid,
                    started,
                    q["fingerprint"],
                    q["sql"],
                    q["kind"],
                    q["phase"],
                    q["database"],
                    q["count"],
                    q["total_duration_ms"],
                )
            )
        for call in record.get("network") or ():
            rows.network.append((run_id, seq, tid, started, *(call[name] for name in _NET_FIELDS), call["count"]))
    return rows


def result_row(record: dict[str, Any], run_id: str, seq: int, tid: str, project_id: int, started: str) -> Row:
    """One results row, in RESULT_COLUMNS order (checked by a test). Written for speed: it runs once per result
    stored, so it looks each field up once and builds nothing for what a record does not have."""
    get = record.get
    phases = record["phases"]
    failure = get("failure") or _NO_FAILURE
    db = get("db")
    net = get("network")
    memory = get("memory") or _NO_MEMORY
    cpu = get("cpu")
    assertions = record["assertions"]
    passed = assertions.get("passed")
    params, markers, n_plus_one = get("params"), get("markers"), db["n_plus_one"] if db else None
    extra = None
    if params or markers or n_plus_one:
        found = {"params": params, "markers": markers, "n_plus_one": n_plus_one}
        extra = orjson.dumps({key: value for key, value in found.items() if value}).decode()
    duration = record["duration_ms"]
    when = get("when")
    final = record["final"] and when not in NOT_ATTEMPTS
    return (
        run_id,
        seq,
        tid,
        project_id,
        started,
        record["attempt"],
        # A collection error, a failed subtest or a class fixture is kept but is no attempt of a test.
        final,
        record["status"],
        when,
        duration,
        duration_bucket(duration),
        phases.get("setup_ms"),
        phases.get("call_ms"),
        phases.get("teardown_ms"),
        get("worker"),
        None if passed is None else passed + (assertions.get("failed") or 0),
        db["count"] if db else None,
        db["duration_ms"] if db else None,
        len(db["n_plus_one"]) if db else None,
        (sum(call["count"] for call in net) if net else 0) if net is not None else None,
        (sum(call["count"] for call in net if not call["loopback"]) if net else 0) if net is not None else None,
        memory.get("rss_peak_kb"),
        memory.get("growth_kb"),
        cpu["user_ms"] + cpu["system_ms"] if cpu else None,
        failure.get("type"),
        failure.get("message"),
        failure.get("fingerprint"),
        get("reason"),
        extra,
        record["status"] in _KEPT or record["attempt"] > 1 or not final,
    )


_KEPT = frozenset(("failed", "error"))
_NO_FAILURE: dict[str, Any] = {}
_NO_MEMORY: dict[str, Any] = {}
