"""Daily and monthly aggregates, folded in as each run is stored, and the retention that deletes raw rows.

Because a run is folded into its day and its month in the transaction that stores it, trends read from rollups
are the same before and after retention deletes the run's raw results: nothing is folded twice or lost.
Subjects are tests (by test_id) and projects (`p:<id>`, one row per run). Durations go into log-bucket
histograms (2% wide), so percentiles of a day, a month or any range of them come from added-up counts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, case, delete, func, literal, not_, or_, select

from suitescope.server.clock import days_ago
from suitescope.server.store.dialect import upsert
from suitescope.server.store.tables import network, queries, results, rollup_durations, rollups

_LOG_STEP = math.log(1.02)  # duration histogram buckets are 2% wide


def duration_bucket(ms: float) -> int:
    return math.floor(math.log(max(ms, 0.001)) / _LOG_STEP)


def bucket_ms(bucket: int) -> float:
    """The middle of a bucket: what a percentile read from a histogram reports (within 1% of the truth)."""
    return float(math.exp((bucket + 0.5) * _LOG_STEP))


STATUSES = ("passed", "failed", "error", "skipped", "xfailed", "xpassed")
ADDED = ["runs", *STATUSES, "duration_ms", "tests", "assertions", "db_queries"]
LARGEST = ["duration_max_ms", "rss_peak_kb"]


def periods(started_at: str) -> tuple[str, str]:
    """The day and the month a run falls in (its start, UTC)."""
    return started_at[:10], started_at[:7]


def project_subject(project_id: int) -> str:
    return f"p:{project_id}"


def fold_run(conn: Connection, run_id: str, run: dict[str, Any]) -> None:
    """Add a stored run to the rollups of its day and month: each final test result, and the run itself."""
    for period in periods(run["started_at"]):
        conn.execute(upsert(conn, rollups, ["subject", "period"], ADDED, LARGEST, _tests_select(run_id, period)))
        conn.execute(
            upsert(
                conn, rollup_durations, ["subject", "period", "bucket"], ["count"], [], _buckets_select(run_id, period)
            )
        )
        conn.execute(upsert(conn, rollups, ["subject", "period"], ADDED, LARGEST), [_run_values(run, period)])
        conn.execute(
            upsert(conn, rollup_durations, ["subject", "period", "bucket"], ["count"], []),
            [
                {
                    "subject": project_subject(run["project_id"]),
                    "period": period,
                    "bucket": duration_bucket(_wall(run)),
                    "count": 1,
                }
            ],
        )


def _wall(run: dict[str, Any]) -> float:
    return float(run["duration_ms"] if run["duration_ms"] is not None else run["tests_duration_ms"])


def _tests_select(run_id: str, period: str) -> Any:
    r = results.c
    counts = [func.sum(case((r.status == status, 1), else_=0)).label(status) for status in STATUSES]
    return (
        select(
            r.test_id.label("subject"),
            literal(period).label("period"),
            r.project_id,
            func.count().label("runs"),
            *counts,
            func.sum(r.duration_ms).label("duration_ms"),
            func.max(r.duration_ms).label("duration_max_ms"),
            literal(0).label("tests"),
            func.coalesce(func.sum(r.assertions), 0).label("assertions"),
            func.coalesce(func.sum(r.db_queries), 0).label("db_queries"),
            func.coalesce(func.max(r.rss_peak_kb), 0).label("rss_peak_kb"),
        )
        .where(r.run_id == run_id, r.final)
        .group_by(r.test_id, r.project_id)
    )


def _buckets_select(run_id: str, period: str) -> Any:
    r = results.c
    return (
        select(
            r.test_id.label("subject"),
            literal(period).label("period"),
            r.duration_bucket.label("bucket"),
            func.count().label("count"),
        )
        .where(r.run_id == run_id, r.final)
        .group_by(r.test_id, r.duration_bucket)
    )


def _run_values(run: dict[str, Any], period: str) -> dict[str, Any]:
    return {
        "subject": project_subject(run["project_id"]),
        "period": period,
        "project_id": run["project_id"],
        "runs": 1,
        **{status: run[status] for status in STATUSES},
        "duration_ms": _wall(run),
        "duration_max_ms": _wall(run),
        "tests": run["tests"],
        "assertions": run["assertions"] or 0,
        "db_queries": run["db_queries"] or 0,
        "rss_peak_kb": run["peak_rss_kb"] or 0,
    }


@dataclass(frozen=True)
class Retention:
    days: float = 90  # raw results, queries and network calls
    failure_days: float = 365  # failed/errored results and flaky evidence (retried attempts)
    daily_rollup_days: float = 800  # daily rollups; monthly ones are kept for ever


@dataclass
class Deleted:
    results: int = 0
    queries: int = 0
    network: int = 0
    daily_rollups: int = 0


def apply_retention(conn: Connection, policy: Retention) -> Deleted:
    """Delete raw rows past their window. Their runs were folded into rollups when stored, so no trend moves."""
    cutoff, failure_cutoff = days_ago(policy.days), days_ago(policy.failure_days)
    deleted = Deleted()
    deleted.queries = conn.execute(delete(queries).where(queries.c.started_at < cutoff)).rowcount
    deleted.network = conn.execute(delete(network).where(network.c.started_at < cutoff)).rowcount
    r = results.c
    evidence = or_(r.status.in_(("failed", "error")), r.attempt > 1, not_(r.final))
    deleted.results = conn.execute(
        delete(results).where(r.started_at < cutoff, or_(not_(evidence), r.started_at < failure_cutoff))
    ).rowcount
    day_cutoff = days_ago(policy.daily_rollup_days)[:10]
    daily_old = and_(func.length(rollups.c.period) == 10, rollups.c.period < day_cutoff)
    deleted.daily_rollups = conn.execute(delete(rollups).where(daily_old)).rowcount
    conn.execute(
        delete(rollup_durations).where(
            func.length(rollup_durations.c.period) == 10, rollup_durations.c.period < day_cutoff
        )
    )
    return deleted
