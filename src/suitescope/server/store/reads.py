"""The queries behind the read endpoints and the dashboard, each one statement on an index of tables.py."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from sqlalchemy import Connection, and_, func, or_, select

from suitescope.server.rollups import (
    ADDED,
    LARGEST,
    bucket_ms,
    buckets_select,
    folded_through,
    next_day,
    project_subject,
    tests_select,
)
from suitescope.server.store.dialect import mean, total
from suitescope.server.store.tables import network, projects, queries, results, rollup_durations, rollups, runs, tests

RUN_SUMMARY = [c for c in runs.c if c.name != "record"]
DIMENSIONS = ("python_version", "python_impl", "framework", "framework_version", "os", "arch", "ci", "environment")


def _rows(result: Any) -> list[dict[str, Any]]:
    return [dict(row._mapping) for row in result]


def list_runs(
    conn: Connection,
    project_id: int,
    *,
    branch: str | None = None,
    environment: str | None = None,
    since: str | None = None,
    until: str | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """Newest first (`runs_project_started`, or `runs_project_branch_started` with a branch)."""
    query = select(*RUN_SUMMARY).where(runs.c.project_id == project_id)
    if branch is not None:
        query = query.where(runs.c.branch == branch)
    if environment is not None:
        query = query.where(runs.c.environment == environment)
    if since is not None:
        query = query.where(runs.c.started_at >= since)
    if until is not None:
        query = query.where(runs.c.started_at < until)
    return _rows(conn.execute(query.order_by(runs.c.started_at.desc()).limit(limit)))


def get_run(conn: Connection, run_id: str) -> dict[str, Any] | None:
    row = conn.execute(select(runs).where(runs.c.run_id == run_id)).first()
    return dict(row._mapping) if row else None


def run_results(
    conn: Connection,
    run_id: str,
    statuses: list[str] | None = None,
    slowest: bool = False,
    limit: int | None = None,
    offset: int = 0,
) -> tuple[int, list[dict[str, Any]]]:
    """A run's results with their tests' names (in the order the run recorded them, or slowest first), and how
    many there are in all with that filter."""
    where = [results.c.run_id == run_id]
    if statuses:
        where.append(results.c.status.in_(statuses))
    total = conn.execute(select(func.count()).select_from(results).where(*where)).scalar_one()
    order = (results.c.duration_ms.desc(), results.c.seq) if slowest else (results.c.seq,)
    query = (
        select(results, tests.c.nodeid, tests.c.name, tests.c["class"], tests.c.module, tests.c.file)
        .join(tests, tests.c.test_id == results.c.test_id)
        .where(*where)
        .order_by(*order)
        .limit(limit)
        .offset(offset)
    )
    return int(total), _rows(conn.execute(query))


def get_test(conn: Connection, test_id: str) -> dict[str, Any] | None:
    row = conn.execute(select(tests).where(tests.c.test_id == test_id)).first()
    return dict(row._mapping) if row else None


def results_of_test(conn: Connection, test_id: str, limit: int = 100) -> list[dict[str, Any]]:
    """The test's latest results, newest first, with the branch and commit of their runs."""
    query = (
        select(results, runs.c.branch, runs.c.commit_sha, runs.c.environment)
        .join(runs, runs.c.run_id == results.c.run_id)
        .where(results.c.test_id == test_id)
        .order_by(results.c.started_at.desc(), results.c.seq.desc())
        .limit(limit)
    )
    return _rows(conn.execute(query))


def trend(conn: Connection, subject: str, since: str | None, until: str | None, monthly: bool) -> list[dict[str, Any]]:
    """One subject's figures per day (or month), oldest first, with duration p50/p95 from the histograms.

    A project's come from its rollups. A test's come from its rollups for the days already folded, and from its
    raw results (indexed by test) for the days since, which are the same figures computed the same way."""
    length = 7 if monthly else 10
    points: dict[str, dict[str, Any]] = {}
    histograms: dict[str, Counter[int]] = defaultdict(Counter)
    r, d = rollups.c, rollup_durations.c
    period = func.substr(r.period, 1, length)
    where = [r.subject == subject] if monthly else [r.subject == subject, func.length(r.period) == 10]
    where += _window(r.period, period, since, until, length)
    sums = [total(r[name], floating=name == "duration_ms").label(name) for name in ADDED]
    maxima = [func.max(r[name]).label(name) for name in LARGEST]
    _merge(points, conn.execute(select(period.label("period"), *sums, *maxima).where(*where).group_by(period)))
    d_period = func.substr(d.period, 1, length)
    d_where = [d.subject == subject] if monthly else [d.subject == subject, func.length(d.period) == 10]
    d_where += _window(d.period, d_period, since, until, length)
    for key, bucket, count in conn.execute(
        select(d_period, d.bucket, total(d["count"])).where(*d_where).group_by(d_period, d.bucket)
    ):
        histograms[key][bucket] += int(count)
    if not subject.startswith("p:"):
        _merge_raw(conn, subject, since, until, length, points, histograms)
    ordered = [points[key] for key in sorted(points)]
    for point in ordered:
        hist = sorted(histograms[point["period"]].items())
        point["duration_p50_ms"] = percentile(hist, 0.50)
        point["duration_p95_ms"] = percentile(hist, 0.95)
        point["duration_avg_ms"] = point["duration_ms"] / point["runs"] if point["runs"] else None
    return ordered


def _window(column: Any, period: Any, since: str | None, until: str | None, length: int) -> list[Any]:
    where = []
    if since is not None:
        where.append(column >= since[:length])
    if until is not None:
        where.append(period <= until[:length])
    return where


def _merge_raw(
    conn: Connection,
    test_id: str,
    since: str | None,
    until: str | None,
    length: int,
    points: dict[str, dict[str, Any]],
    histograms: dict[str, Counter[int]],
) -> None:
    """Add a test's results of the days not folded yet, computed as the fold will compute them."""
    folded = folded_through(conn)
    res = results.c
    where = [res.test_id == test_id]
    if folded is not None:
        where.append(res.started_at >= next_day(folded))
    period = func.substr(res.started_at, 1, length)
    where += _window(res.started_at, period, since, until, length)
    _merge(points, conn.execute(tests_select(and_(*where), period)))
    for row in conn.execute(buckets_select(and_(*where), period)):
        histograms[row.period][row.bucket] += int(row._mapping["count"])


def _merge(points: dict[str, dict[str, Any]], rows: Any) -> None:
    for row in rows:
        values = row._mapping
        point = points.get(values["period"])
        if point is None:
            points[values["period"]] = {"period": values["period"], **{n: values[n] for n in ADDED + LARGEST}}
            continue
        for name in ADDED:
            point[name] += values[name]
        for name in LARGEST:
            point[name] = max(point[name], values[name])


def percentile(histogram: list[tuple[int, int]], q: float) -> float | None:
    """The q-th percentile of a bucket histogram sorted by bucket (nearest rank, the bucket's middle)."""
    total = sum(count for _bucket, count in histogram)
    if not total:
        return None
    rank = max(1, round(q * total + 0.4999))
    seen = 0
    for bucket, count in histogram:
        seen += count
        if seen >= rank:
            return round(bucket_ms(bucket), 3)
    return round(bucket_ms(histogram[-1][0]), 3)


def project_trend(
    conn: Connection, project_id: int, since: str | None, until: str | None, monthly: bool
) -> list[dict[str, Any]]:
    return trend(conn, project_subject(project_id), since, until, monthly)


def coverage_trend(conn: Connection, project_id: int, since: str | None, monthly: bool) -> list[dict[str, Any]]:
    """Mean line coverage of the project's runs that measured it, per day (or month), oldest first."""
    period = func.substr(runs.c.started_at, 1, 7 if monthly else 10)
    where = [runs.c.project_id == project_id, runs.c.coverage_pct.is_not(None)]
    if since is not None:
        where.append(runs.c.started_at >= since)
    query = select(period.label("period"), mean(runs.c.coverage_pct).label("coverage_pct")).where(*where)
    return _rows(conn.execute(query.group_by(period).order_by(period)))


def environments(
    conn: Connection,
    dimension: str,
    project_id: int | None,
    since: str | None,
    until: str | None,
    monthly: bool,
) -> list[dict[str, Any]]:
    """Runs per period and value of one environment dimension, for one project or across the ecosystem
    (public and anonymous projects: anonymous ones are counted, never listed)."""
    column = runs.c[dimension]
    period = func.substr(runs.c.started_at, 1, 7 if monthly else 10)
    query = select(period.label("period"), column.label("value"), func.count().label("runs"))
    if project_id is not None:
        query = query.where(runs.c.project_id == project_id)
    else:
        query = query.join(projects, projects.c.id == runs.c.project_id).where(
            or_(projects.c.public, projects.c.anonymous)
        )
    if since is not None:
        query = query.where(runs.c.started_at >= since)
    if until is not None:
        query = query.where(runs.c.started_at < until)
    return _rows(conn.execute(query.group_by(period, column).order_by(period, column)))


def suite_sizes(conn: Connection, project_id: int | None, since: str | None, limit: int = 10) -> list[dict[str, Any]]:
    """Per project (one, or every public and anonymous one): runs, tests per run, assertions per test,
    duration and peak memory per run; the largest suites first."""
    query = select(
        projects.c.name,
        projects.c.anonymous,
        func.count().label("runs"),
        mean(runs.c.tests).label("tests"),
        (total(runs.c.assertions, floating=True) / func.nullif(total(runs.c.tests), 0)).label("assertions_per_test"),
        mean(runs.c.duration_ms).label("duration_ms"),
        func.max(runs.c.peak_rss_kb).label("peak_rss_kb"),
    ).join(projects, projects.c.id == runs.c.project_id)
    if project_id is not None:
        query = query.where(runs.c.project_id == project_id)
    else:
        query = query.where(or_(projects.c.public, projects.c.anonymous))
    if since is not None:
        query = query.where(runs.c.started_at >= since)
    query = query.group_by(projects.c.name, projects.c.anonymous).order_by(func.avg(runs.c.tests).desc()).limit(limit)
    rows = _rows(conn.execute(query))
    for row in rows:  # anonymous projects are counted, never named
        if row.pop("anonymous"):
            row["name"] = "(anonymous)"
    return rows


def failure_groups(
    conn: Connection, project_id: int, limit: int = 50, since: str | None = None
) -> list[dict[str, Any]]:
    """Failures (since a time) by fingerprint, most frequent first: count, tests, first and last seen, type, a
    message, and the tests affected (20 at most, by name)."""
    r = results.c
    where = [r.project_id == project_id, r.fingerprint.is_not(None)]
    if since is not None:
        where.append(r.started_at >= since)
    query = (
        select(
            r.fingerprint,
            func.count().label("count"),
            func.count(func.distinct(r.test_id)).label("tests"),
            func.min(r.started_at).label("first_seen"),
            func.max(r.started_at).label("last_seen"),
            func.max(r.failure_type).label("type"),
            func.max(r.failure_message).label("message"),
        )
        .where(*where)
        .group_by(r.fingerprint)
        .order_by(func.count().desc())
        .limit(limit)
    )
    groups = _rows(conn.execute(query))
    affected = conn.execute(
        select(r.fingerprint, tests.c.test_id, tests.c.nodeid)
        .join(tests, tests.c.test_id == r.test_id)
        .where(*where, r.fingerprint.in_([g["fingerprint"] for g in groups]))
        .distinct()
    ).all()
    names: dict[str, list[dict[str, str]]] = {}
    for fingerprint, test_id, nodeid in affected:
        names.setdefault(fingerprint, []).append({"test_id": test_id, "nodeid": nodeid})
    for group in groups:
        group["affected_tests"] = sorted(names.get(group["fingerprint"], []), key=lambda t: t["nodeid"])[:20]
    return groups


def queries_of_test(conn: Connection, test_id: str, since: str, limit: int = 20) -> list[dict[str, Any]]:
    """A test's queries since a time by fingerprint, most repeated first: `most` is the largest count in one
    result (the N+1 evidence), `results` how many results ran it."""
    q = queries.c
    query = (
        select(
            q.fingerprint,
            func.max(q.sql).label("sql"),
            func.max(q.kind).label("kind"),
            total(q["count"]).label("count"),
            func.max(q["count"]).label("most"),
            func.count(func.distinct(q.run_id)).label("results"),
            total(q.total_ms, floating=True).label("total_ms"),
        )
        .where(q.test_id == test_id, q.started_at >= since)
        .group_by(q.fingerprint)
        .order_by(func.max(q["count"]).desc(), q.fingerprint)
        .limit(limit)
    )
    return _rows(conn.execute(query))


def hosts_of_test(conn: Connection, test_id: str, since: str) -> list[dict[str, Any]]:
    """The hosts a test reached since a time: calls, in how many results, when last, loopback or not."""
    n = network.c
    query = (
        select(
            n.kind,
            n.scheme,
            n.host,
            n.port,
            n.loopback,
            func.max(n.url).label("url"),
            total(n["count"]).label("count"),
            func.count(func.distinct(n.run_id)).label("results"),
            func.max(n.started_at).label("last_seen"),
        )
        .where(n.test_id == test_id, n.started_at >= since)
        .group_by(n.kind, n.scheme, n.host, n.port, n.loopback)
        .order_by(n.loopback, func.sum(n["count"]).desc())
    )
    return _rows(conn.execute(query))


FAILING = ("failed", "error")


def run_changes(conn: Connection, run_id: str, previous_id: str, limit: int = 50) -> dict[str, list[dict[str, Any]]]:
    """What changed since the branch's previous run: tests newly failing, fixed, new and gone (final attempts)."""
    query = (
        select(results.c.run_id, results.c.test_id, results.c.status, tests.c.nodeid)
        .join(tests, tests.c.test_id == results.c.test_id)
        .where(results.c.run_id.in_((run_id, previous_id)), results.c.final)
    )
    now: dict[str, dict[str, Any]] = {}
    before: dict[str, dict[str, Any]] = {}
    for row in conn.execute(query):
        (now if row.run_id == run_id else before)[row.test_id] = {
            "test_id": row.test_id,
            "nodeid": row.nodeid,
            "status": row.status,
        }
    changes = {
        "newly_failing": [
            t for k, t in now.items() if t["status"] in FAILING and k in before and before[k]["status"] not in FAILING
        ],
        "fixed": [
            t for k, t in now.items() if t["status"] not in FAILING and k in before and before[k]["status"] in FAILING
        ],
        "new": [t for k, t in now.items() if k not in before],
        "gone": [t for k, t in before.items() if k not in now],
    }
    return {kind: sorted(found, key=lambda t: t["nodeid"])[:limit] for kind, found in changes.items()}
