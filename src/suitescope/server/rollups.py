"""Daily and monthly aggregates, and the retention that deletes raw rows once they are folded in.

A run is folded into the rollups of its day in the transaction that stores it, so trends read from rollups are
the same before and after retention deletes its raw results: nothing is folded twice or lost. Days older than
the daily window are folded into their month (added up, then deleted, in one transaction), so a month's
figures are the sum of its rows, whether days or the month itself. Subjects are tests (by test_id) and
projects (`p:<id>`, one count per run). Durations go into log-bucket histograms (2% wide): percentiles of a day,
a month or any range come from added-up bucket counts, exactly as if computed from the histogram of every run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, and_, case, delete, func, literal, not_, or_, select, text

from suitescope.server.clock import days_ago
from suitescope.server.store.dialect import total, upsert
from suitescope.server.store.partitions import drop_months
from suitescope.server.store.tables import (
    network,
    queries,
    results,
    rollup_durations,
    rollup_state,
    rollups,
    runs,
)

_LOG_STEP = math.log(1.02)  # duration histogram buckets are 2% wide


def duration_bucket(ms: float) -> int:
    return math.floor(math.log(max(ms, 0.001)) / _LOG_STEP)


def bucket_ms(bucket: int) -> float:
    """The middle of a bucket: what a percentile read from a histogram reports (within 1% of the truth)."""
    return float(math.exp((bucket + 0.5) * _LOG_STEP))


STATUSES = ("passed", "failed", "error", "skipped", "xfailed", "xpassed")
ADDED = ["runs", *STATUSES, "duration_ms", "tests", "assertions", "db_queries"]
LARGEST = ["duration_max_ms", "rss_peak_kb"]


def project_subject(project_id: int) -> str:
    return f"p:{project_id}"


FOLDED_THROUGH = "tests_folded_through"  # rollup_state key: the last day whose test results are in rollups
FOLD_LOCK = 724_100_002  # pg_advisory_xact_lock key between a day's fold and the runs being stored


def fold_run(conn: Connection, run_id: str, run: dict[str, Any]) -> None:
    """Add a stored run to the rollups of its day (UTC): the run itself always, its tests' results only when
    their day was already folded (a late run); other days' results are folded in bulk by `fold_test_days`."""
    day = run["started_at"][:10]
    keys, bucket_keys = ["subject", "period"], ["subject", "period", "bucket"]
    conn.execute(upsert(conn, rollups, keys, ADDED, LARGEST), [_run_values(run, day)])
    subject = project_subject(run["project_id"])
    bucket = {"subject": subject, "period": day, "bucket": duration_bucket(_wall(run)), "count": 1}
    conn.execute(upsert(conn, rollup_durations, bucket_keys, ["count"], []), [bucket])
    _fold_lock(conn, exclusive=False)
    folded = folded_through(conn)
    if folded is not None and day <= folded:
        _fold_results(conn, results.c.run_id == run_id, literal(day))


def folded_through(conn: Connection) -> str | None:
    """The last day (UTC) whose test results are all in the rollups; None before the first fold."""
    query = select(rollup_state.c.value).where(rollup_state.c.key == FOLDED_THROUGH)
    return conn.execute(query).scalar_one_or_none()


def _fold_lock(conn: Connection, exclusive: bool) -> None:
    """Serialise a day's fold with the runs being stored, and nothing else: workers share the lock (they never
    wait on each other), the fold takes it alone. A run stored while a day is folded is then either seen by
    the fold (committed before it) or sees the fold's new watermark and folds its own results, never neither
    nor both. On SQLite the store's single writer serialises them already. The lock is a transaction-level
    advisory lock: it exists before the watermark's first row does, and a FOR UPDATE on that row would make
    every worker wait for every other."""
    if conn.dialect.name == "postgresql":
        function = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
        conn.execute(text(f"SELECT {function}(:key)"), {"key": FOLD_LOCK})


def fold_test_days(conn: Connection, through: str, max_days: int | None = None) -> int:
    """Fold the test results of the days up to `through` (a day, "2026-11-22") not folded yet, at most
    `max_days` of the days that have runs; how many days were folded.

    Test rollups are made per day, in bulk, once the day is over: one statement per table for all of a day's
    results, instead of one per run as runs arrive (which measured as a third of the worker's time). The
    server folds one day per transaction, so a long history never holds the store's write lock for long."""
    _fold_lock(conn, exclusive=True)
    folded = folded_through(conn)
    if folded is not None and folded >= through:
        return 0
    day = func.substr(runs.c.started_at, 1, 10)
    window = [runs.c.started_at < next_day(through)]
    if folded is not None:
        window.append(runs.c.started_at >= next_day(folded))
    days = [row[0] for row in conn.execute(select(day).where(*window).distinct().order_by(day).limit(max_days))]
    last = days[-1] if days and max_days is not None and len(days) == max_days else through
    window[0] = runs.c.started_at < next_day(last)
    if days:
        in_window = results.c.run_id.in_(select(runs.c.run_id).where(*window))
        _fold_results(conn, in_window, func.substr(results.c.started_at, 1, 10))
    state = upsert(conn, rollup_state, ["key"], [], [], None, replace=("value",))
    conn.execute(state, [{"key": FOLDED_THROUGH, "value": last}])
    return len(days)


def next_day(day: str) -> str:
    return (date.fromisoformat(day) + timedelta(days=1)).isoformat()


def _fold_results(conn: Connection, where: Any, period: Any) -> None:
    keys, bucket_keys = ["subject", "period"], ["subject", "period", "bucket"]
    conn.execute(upsert(conn, rollups, keys, ADDED, LARGEST, tests_select(where, period)))
    conn.execute(upsert(conn, rollup_durations, bucket_keys, ["count"], [], buckets_select(where, period)))


def _wall(run: dict[str, Any]) -> float:
    return float(run["duration_ms"] if run["duration_ms"] is not None else run["tests_duration_ms"])


def tests_select(where: Any, period: Any) -> Any:
    """Per test and day, the rollup figures of its final results selected by `where` (a run, or days)."""
    r = results.c
    counts = [total(case((r.status == status, 1), else_=0)).label(status) for status in STATUSES]
    return (
        select(
            r.test_id.label("subject"),
            period.label("period"),
            r.project_id,
            func.count().label("runs"),
            *counts,
            total(r.duration_ms, floating=True).label("duration_ms"),
            func.max(r.duration_ms).label("duration_max_ms"),
            literal(0).label("tests"),
            func.coalesce(total(r.assertions), 0).label("assertions"),
            func.coalesce(total(r.db_queries), 0).label("db_queries"),
            func.coalesce(func.max(r.rss_peak_kb), 0).label("rss_peak_kb"),
        )
        .where(where, r.final)
        .group_by(r.test_id, r.project_id, period)
    )


def buckets_select(where: Any, period: Any) -> Any:
    r = results.c
    return (
        select(
            r.test_id.label("subject"),
            period.label("period"),
            r.duration_bucket.label("bucket"),
            func.count().label("count"),
        )
        .where(where, r.final)
        .group_by(r.test_id, period, r.duration_bucket)
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
    daily_rollup_days: float = 400  # daily rollups; older days are folded into their month, kept for ever


@dataclass
class Deleted:
    results: int = 0
    queries: int = 0
    network: int = 0
    days_folded: int = 0
    partitions: dict[str, int] = field(default_factory=dict)  # monthly partitions dropped, their rows (PostgreSQL)


def apply_retention(conn: Connection, policy: Retention) -> Deleted:
    """Delete raw rows past their window, and fold old days into months. Runs were folded into rollups when
    stored, so no trend moves; the runs themselves are small and kept, so no run count moves either."""
    deleted = Deleted()
    fold_test_days(conn, days_ago(1)[:10])  # nothing is deleted before it is folded in
    # Whole months first (PostgreSQL's partitions), then what is left of the months at the windows' edges.
    deleted.partitions = drop_months(conn, days_ago(policy.days)[:7], days_ago(policy.failure_days)[:7])
    for name, rows in deleted.partitions.items():
        setattr(deleted, name.split("_")[0], getattr(deleted, name.split("_")[0]) + rows)
    old_runs = select(runs.c.run_id).where(runs.c.started_at < days_ago(policy.days))
    deleted.queries += conn.execute(delete(queries).where(queries.c.run_id.in_(old_runs))).rowcount
    deleted.network += conn.execute(delete(network).where(network.c.run_id.in_(old_runs))).rowcount
    r = results.c
    evidence = r.kept  # failed, errored, retried or not final (writes.result_row)
    past_evidence = select(runs.c.run_id).where(runs.c.started_at < days_ago(policy.failure_days))
    deleted.results += conn.execute(
        delete(results).where(r.run_id.in_(old_runs), or_(not_(evidence), r.run_id.in_(past_evidence)))
    ).rowcount
    deleted.days_folded = fold_days(conn, days_ago(policy.daily_rollup_days)[:7])
    return deleted


def fold_days(conn: Connection, before_month: str) -> int:
    """Fold the daily rollups of every month before `before_month` ("2026-11") into one row per month."""
    old_days = and_(func.length(rollups.c.period) == 10, rollups.c.period < before_month)
    month = func.substr(rollups.c.period, 1, 7)
    sums = [func.sum(rollups.c[name]).label(name) for name in ADDED]
    maxima = [func.max(rollups.c[name]).label(name) for name in LARGEST]
    folded = (
        select(rollups.c.subject, month.label("period"), rollups.c.project_id, *sums, *maxima)
        .where(old_days)
        .group_by(rollups.c.subject, month, rollups.c.project_id)
    )
    conn.execute(upsert(conn, rollups, ["subject", "period"], ADDED, LARGEST, folded))
    d = rollup_durations.c
    old_buckets = and_(func.length(d.period) == 10, d.period < before_month)
    d_month = func.substr(d.period, 1, 7)
    buckets = (
        select(d.subject, d_month.label("period"), d.bucket, func.sum(d["count"]).label("count"))
        .where(old_buckets)
        .group_by(d.subject, d_month, d.bucket)
    )
    conn.execute(upsert(conn, rollup_durations, ["subject", "period", "bucket"], ["count"], [], buckets))
    conn.execute(delete(rollup_durations).where(old_buckets))
    return int(conn.execute(delete(rollups).where(old_days)).rowcount)
