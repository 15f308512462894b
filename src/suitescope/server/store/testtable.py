"""The tests of a project's latest runs, one row each, for the dashboard's tests table and its JSON twin.

One GROUP BY over the chosen runs' results (their primary key) gives every test's figures; the rows are kept
by the findings cache until the project changes, so sorting and filtering them is done here, in memory, per
view. The sparklines read only the shown tests' results since the first of the runs (the index by test)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, case, func, select

from suitescope.server.store.dialect import mean, total
from suitescope.server.store.history import CHUNK
from suitescope.server.store.tables import results, runs, tests

_failing = total(case((results.c.status.in_(("failed", "error")), 1), else_=0))
_passing = total(case((results.c.status == "passed", 1), else_=0))


def _most(name: str) -> Callable[[dict[str, Any]], Any]:
    return lambda row: -(row[name] or 0)


SORTS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "slowest": _most("duration_avg_ms"),
    "flakiest": _most("flakiness"),  # both outcomes in the window, the rarer one the larger share
    "failing": _most("failing"),
    "queries": _most("queries_avg"),
    "memory": _most("rss_growth_kb"),
    "network": _most("net_external"),
    "name": lambda row: row["nodeid"],
}
# What `has` keeps: tests with at least one such result in the window.
HAS: dict[str, Callable[[dict[str, Any]], bool]] = {
    "failures": lambda row: row["failing"] > 0,
    "flaky": lambda row: row["flakiness"] > 0,
    "n_plus_one": lambda row: (row["n_plus_one"] or 0) > 0,
    "network": lambda row: (row["net_external"] or 0) > 0,
}


def aggregate(conn: Connection, run_ids: list[str]) -> list[dict[str, Any]]:
    """Per test of these runs: results, passed, failing, flakiness, mean and max duration, mean queries, most
    N+1 findings in a result, largest memory growth, calls to other hosts."""
    if not run_ids:
        return []
    r = results.c
    query = (
        select(
            r.test_id,
            tests.c.nodeid,
            func.count().label("results"),
            _passing.label("passed"),
            _failing.label("failing"),
            mean(r.duration_ms).label("duration_avg_ms"),
            func.max(r.duration_ms).label("duration_max_ms"),
            mean(r.db_queries).label("queries_avg"),
            func.max(r.n_plus_one).label("n_plus_one"),
            func.max(r.rss_growth_kb).label("rss_growth_kb"),
            total(r.net_external).label("net_external"),
        )
        .join(tests, tests.c.test_id == r.test_id)
        .where(r.run_id.in_(run_ids))
        .group_by(r.test_id, tests.c.nodeid)
    )
    rows = [dict(row._mapping) for row in conn.execute(query)]
    for row in rows:
        row["flakiness"] = min(row["passed"], row["failing"]) / row["results"]
    return rows


def choose(
    rows: list[dict[str, Any]],
    *,
    sort: str = "slowest",
    contains: str | None = None,
    has: str | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """The rows a view shows: filtered by name (case-insensitive) and by `has`, sorted, the first `limit`."""
    if contains:
        needle = contains.lower()
        rows = [row for row in rows if needle in row["nodeid"].lower()]
    if has:
        rows = [row for row in rows if HAS[has](row)]
    ordered = sorted(rows, key=lambda row: (SORTS[sort](row), row["nodeid"]))
    return [dict(row) for row in ordered[:limit]]


def add_sparklines(conn: Connection, run_ids: list[str], rows: list[dict[str, Any]]) -> None:
    """Give each row its final durations in these runs, in run order (`sparkline`)."""
    if not run_ids or not rows:
        for row in rows:
            row["sparkline"] = []
        return
    order = {run_id: place for place, run_id in enumerate(run_ids)}
    since = conn.execute(select(func.min(runs.c.started_at)).where(runs.c.run_id.in_(run_ids))).scalar_one()
    test_ids = [row["test_id"] for row in rows]
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
    for row in rows:
        row["sparkline"] = [d for _place, d in sorted(found.get(row["test_id"], []))]
