"""Store one report: its run, its tests' identities, results, queries and network calls, in one transaction.

Idempotent by run_id: a run already stored is not written again, so a report sent twice, or a job the worker
processes a second time after a crash between commit and acknowledgement, is stored once.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, select

from suitescope.schema.records import NOT_ATTEMPTS
from suitescope.server.clock import normalise, now_iso
from suitescope.server.reports import Report
from suitescope.server.rollups import duration_bucket, fold_run
from suitescope.server.store.dialect import insert_ignore
from suitescope.server.store.tables import network, queries, results, runs, tests


def test_id(project: str, nodeid: str) -> str:
    """A test's identity in the store: the same for the same project and test id, on every server."""
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


def write_report(conn: Connection, report: Report, tags: Tags) -> bool:
    """Store a report; False when its run was already stored (nothing is written then)."""
    if conn.execute(select(runs.c.run_id).where(runs.c.run_id == report.run_id)).first():
        return False
    started = normalise(report.run["started"])
    run = run_row(report, tags, started)
    conn.execute(insert(runs).values(run))
    identities, rows, query_rows, net_rows = _test_rows(report, tags, started)
    for table, batch in ((tests, identities), (results, rows), (queries, query_rows), (network, net_rows)):
        if batch:
            statement = insert_ignore(conn, table) if table is tests else insert(table)
            conn.execute(statement, batch)
    fold_run(conn, report.run_id, run)
    return True


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


Rows = list[dict[str, Any]]


def _test_rows(report: Report, tags: Tags, started: str) -> tuple[Rows, Rows, Rows, Rows]:
    identities: dict[str, dict[str, Any]] = {}
    rows: Rows = []
    query_rows: Rows = []
    net_rows: Rows = []
    run_id = report.run_id
    for seq, record in enumerate(report.tests):
        nodeid = record["id"]
        tid = test_id(tags.project, nodeid)
        if tid not in identities:
            identities[tid] = {
                "test_id": tid,
                "project_id": tags.project_id,
                "nodeid": nodeid,
                "name": record["name"],
                "class": record.get("class"),
                "module": record.get("module"),
                "file": record.get("file"),
                "first_seen": started,
            }
        rows.append(result_row(record, run_id, seq, tid, tags.project_id, started))
        key = {"run_id": run_id, "seq": seq, "test_id": tid, "started_at": started}
        for query in record.get("db_queries") or ():
            query_rows.append(
                {
                    **key,
                    "fingerprint": query["fingerprint"],
                    "sql": query["sql"],
                    "kind": query["kind"],
                    "phase": query["phase"],
                    "database": query["database"],
                    "count": query["count"],
                    "total_ms": query["total_duration_ms"],
                }
            )
        for call in record.get("network") or ():
            net_rows.append(
                {
                    **key,
                    **{name: call[name] for name in ("kind", "scheme", "host", "port", "url", "loopback", "phase")},
                    "count": call["count"],
                }
            )
    return list(identities.values()), rows, query_rows, net_rows


def result_row(
    record: dict[str, Any], run_id: str, seq: int, tid: str, project_id: int, started: str
) -> dict[str, Any]:
    phases = record["phases"]
    failure = record.get("failure")
    db = record.get("db")
    net = record.get("network")
    memory = record.get("memory")
    cpu = record.get("cpu")
    assertions = record["assertions"]
    extra = {key: record[key] for key in ("params", "markers") if record.get(key)}
    if db and db["n_plus_one"]:
        extra["n_plus_one"] = db["n_plus_one"]
    return {
        "run_id": run_id,
        "seq": seq,
        "test_id": tid,
        "project_id": project_id,
        "started_at": started,
        "attempt": record["attempt"],
        # A collection error, a failed subtest or a class fixture is kept but is no attempt of a test.
        "final": record["final"] and record.get("when") not in NOT_ATTEMPTS,
        "status": record["status"],
        "phase": record.get("when"),
        "duration_ms": record["duration_ms"],
        "duration_bucket": duration_bucket(record["duration_ms"]),
        "setup_ms": phases.get("setup_ms"),
        "call_ms": phases.get("call_ms"),
        "teardown_ms": phases.get("teardown_ms"),
        "worker": record.get("worker"),
        "assertions": None
        if assertions.get("passed") is None
        else assertions["passed"] + (assertions.get("failed") or 0),
        "db_queries": db["count"] if db else None,
        "db_ms": db["duration_ms"] if db else None,
        "n_plus_one": len(db["n_plus_one"]) if db else None,
        "net_calls": sum(call["count"] for call in net) if net is not None else None,
        "net_external": sum(call["count"] for call in net if not call["loopback"]) if net is not None else None,
        "rss_peak_kb": memory.get("rss_peak_kb") if memory else None,
        "rss_growth_kb": memory.get("growth_kb") if memory else None,
        "cpu_ms": cpu["user_ms"] + cpu["system_ms"] if cpu else None,
        "failure_type": failure["type"] if failure else None,
        "failure_message": failure["message"] if failure else None,
        "fingerprint": failure["fingerprint"] if failure else None,
        "reason": record.get("reason"),
        "extra": extra or None,
    }
