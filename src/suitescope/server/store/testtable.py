"""The tests of a project's latest runs, one row each, sorted and filtered for the dashboard's table and its
JSON twin. One GROUP BY over the chosen runs' results (their primary key), then the durations of the page's
tests in those runs for the sparklines: bounded by the runs asked for, whatever the store holds."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import Connection, case, func, select

from suitescope.server.store.history import CHUNK
from suitescope.server.store.tables import results, runs, tests

_failing = case((results.c.status.in_(("failed", "error")), 1), else_=0)
_passing = case((results.c.status == "passed", 1), else_=0)
_fails, _passes = func.sum(_failing), func.sum(_passing)
# Flakiest: both outcomes in the window, the rarer one the larger share of results.
_flakiness = case((_passes < _fails, _passes), else_=_fails) * 1.0 / func.count()

SORTS: dict[str, Any] = {
    "slowest": func.avg(results.c.duration_ms).desc(),
    "flakiest": _flakiness.desc(),
    "failing": _fails.desc(),
    "queries": func.avg(results.c.db_queries).desc(),
    "memory": func.max(results.c.rss_growth_kb).desc(),
    "network": func.sum(results.c.net_external).desc(),
    "name": tests.c.nodeid.asc(),
}
# What `has` keeps: tests with at least one such result in the window.
HAS: dict[str, Any] = {
    "failures": _fails > 0,
    "flaky": _flakiness > 0,
    "n_plus_one": func.max(results.c.n_plus_one) > 0,
    "network": func.sum(results.c.net_external) > 0,
}


def table_of_tests(
    conn: Connection,
    run_ids: list[str],
    *,
    sort: str = "slowest",
    contains: str | None = None,
    has: str | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """Per test of these runs: results, passed, failing, flakiness, mean and max duration, mean queries, most
    repeated query (N+1), largest memory growth, calls to other hosts; `sparkline` the durations, oldest first."""
    if not run_ids:
        return []
    r = results.c
    query = (
        select(
            r.test_id,
            tests.c.nodeid,
            func.count().label("results"),
            _passes.label("passed"),
            _fails.label("failing"),
            _flakiness.label("flakiness"),
            func.avg(r.duration_ms).label("duration_avg_ms"),
            func.max(r.duration_ms).label("duration_max_ms"),
            func.avg(r.db_queries).label("queries_avg"),
            func.max(r.n_plus_one).label("n_plus_one"),
            func.max(r.rss_growth_kb).label("rss_growth_kb"),
            func.sum(r.net_external).label("net_external"),
        )
        .join(tests, tests.c.test_id == r.test_id)
        .where(r.run_id.in_(run_ids))
        .group_by(r.test_id, tests.c.nodeid)
        .order_by(SORTS[sort], tests.c.nodeid)
        .limit(limit)
    )
    if contains:
        query = query.where(tests.c.nodeid.contains(contains, autoescape=True))
    if has:
        query = query.having(HAS[has])
    rows = [dict(row._mapping) for row in conn.execute(query)]
    lines = _durations(conn, run_ids, [row["test_id"] for row in rows])
    for row in rows:
        row["sparkline"] = lines.get(row["test_id"], [])
    return rows


def _durations(conn: Connection, run_ids: list[str], test_ids: list[str]) -> dict[str, list[float]]:
    """Each test's final durations in these runs, in run order."""
    order = {run_id: place for place, run_id in enumerate(run_ids)}
    # On the index by test and start: only the results since the first of these runs are read.
    since = conn.execute(select(func.min(runs.c.started_at)).where(runs.c.run_id.in_(run_ids))).scalar_one()
    found: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for start in range(0, len(test_ids), CHUNK):
        query = select(results.c.test_id, results.c.run_id, results.c.duration_ms).where(
            results.c.test_id.in_(test_ids[start : start + CHUNK]),
            results.c.started_at >= since,
            results.c.run_id.in_(run_ids),
            results.c.final,
        )
        for test_id, run_id, duration in conn.execute(query):
            found[test_id].append((order[run_id], duration))
    return {test_id: [d for _place, d in sorted(points)] for test_id, points in found.items()}
