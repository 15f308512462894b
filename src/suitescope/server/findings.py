"""Findings of a project, computed by the same `analysis` functions as `suitescope report`, with evidence links.

Each endpoint reads no more of the store than its finding needs: flaky and broken read the histories of the
tests that failed or were retried in the window only; regressions and lost tests read the window's runs.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from sqlalchemy import Connection, select

from suitescope.analysis.flaky import analyse
from suitescope.analysis.lost import gaps, lost_tests
from suitescope.analysis.regressions import duration_regressions, new_hosts, query_regressions
from suitescope.analysis.slow import slowest
from suitescope.server.auth import Caller, caller, project_for_read
from suitescope.server.clock import days_ago
from suitescope.server.responses import Json
from suitescope.server.store import history, reads, testtable
from suitescope.server.store.accounts import Project
from suitescope.server.store.tables import runs

router = APIRouter(prefix="/api/v1/findings", tags=["findings"])
ProjectName = Annotated[str, Query(min_length=1, max_length=200)]


def _linked(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Evidence with a link to each run it cites."""
    for item in items:
        for entry in item.get("evidence", ()):
            entry["run_url"] = f"/api/v1/runs/{entry['run_id']}"
    return items


def cached(
    who: Caller,
    conn: Connection,
    target: Project,
    params: tuple[Hashable, ...],
    compute: Callable[[Connection], dict[str, Any]],
) -> dict[str, Any]:
    """Findings from the process's cache (findcache.py), `stale` when newer ones are being computed."""
    found = who.state.findings.get(who.state.store, conn, target.id, params, compute)
    return {**found.value, "stale": found.stale}


def tests_table(
    who: Caller,
    conn: Connection,
    target: Project,
    window: tuple[int, str | None, str | None, str | None],
    *,
    sort: str,
    contains: str | None,
    has: str | None,
    limit: int,
) -> tuple[int, list[dict[str, Any]], bool]:
    """(runs read, the rows shown with their sparklines, stale) of the tests table of a window of runs:
    `window` is (how many runs, branch, environment, since). The rows of every test come from the cache."""
    count, branch, environment, since = window
    run_ids = history.recent_runs(conn, target.id, count, branch, environment=environment, since=since)
    found = who.state.findings.get(
        who.state.store, conn, target.id, ("tests", *window), lambda c: testtable.aggregate(c, run_ids)
    )
    rows = testtable.choose(found.value, sort=sort, contains=contains, has=has, limit=limit)
    testtable.add_sparklines(conn, run_ids, rows)
    return len(run_ids), rows, found.stale


def failures_report(conn: Connection, target: Project, limit: int = 50, since: str | None = None) -> dict[str, Any]:
    """Failures (since a time) grouped by fingerprint, most frequent first."""
    return {"project": target.name, "since": since, "groups": reads.failure_groups(conn, target.id, limit, since)}


def flaky_report(conn: Connection, target: Project, runs_back: int = 200, branch: str | None = None) -> dict[str, Any]:
    """Flaky and broken tests of the latest runs (of a branch), infrastructure failures set apart."""
    run_ids = history.recent_runs(conn, target.id, runs_back, branch)
    suspects = history.failing_tests(conn, run_ids)
    found = analyse(history.outcomes(conn, run_ids, suspects)) if suspects else analyse([])
    return {
        "project": target.name,
        "runs": len(run_ids),
        "flaky": _linked([asdict(f) for f in found.flaky]),
        "broken": _linked([asdict(b) for b in found.broken]),
        "infra": {"failures": found.infra_failures, "runs": found.infra_runs},
    }


def regressions_report(conn: Connection, target: Project, branch: str | None, runs_back: int = 23) -> dict[str, Any]:
    """Tests slower since a run, tests running more queries, tests reaching a host they never reached."""
    rows = history.outcomes(conn, history.recent_runs(conn, target.id, runs_back, branch))
    durations = [
        {**asdict(r), "ratio": r.ratio, "run_urls": [f"/api/v1/runs/{i}" for i in r.runs]}
        for r in duration_regressions(rows)
    ]
    queries = [asdict(q) for q in query_regressions(rows)]
    hosts = [asdict(h) for h in new_hosts(rows)]
    return {"project": target.name, "durations": durations, "queries": queries, "new_hosts": hosts}


def lost_report(conn: Connection, target: Project, runs_back: int = 20) -> dict[str, Any]:
    """Tests the latest run of a branch no longer ran, and runs that ran fewer tests than they collected."""
    run_ids = history.recent_runs(conn, target.id, runs_back)
    rows = history.outcomes(conn, run_ids)
    counts = conn.execute(
        select(runs.c.run_id, runs.c.tests_expected, runs.c.tests).where(runs.c.run_id.in_(run_ids))
    ).all()
    found_gaps = [{**asdict(g), "missing": g.missing} for g in gaps((r[0], r[1], r[2]) for r in counts)]
    return {"project": target.name, "lost": [asdict(item) for item in lost_tests(rows)], "gaps": found_gaps}


@router.get("/flaky", summary="Flaky and broken tests, infrastructure failures apart, with evidence")
def get_flaky(
    who: Annotated[Caller, Depends(caller)],
    project: ProjectName,
    runs_back: Annotated[int, Query(alias="runs", ge=2, le=1000, description="how many recent runs to read")] = 200,
    branch: Annotated[str | None, Query(max_length=200, description="only the runs of this branch")] = None,
) -> Json:
    target = project_for_read(who, project)
    with who.state.store.read() as conn:
        key = ("flaky", runs_back, branch)
        return Json(cached(who, conn, target, key, lambda c: flaky_report(c, target, runs_back, branch)))


@router.get("/regressions", summary="Tests slower since a commit, and tests running more queries")
def get_regressions(
    who: Annotated[Caller, Depends(caller)],
    project: ProjectName,
    branch: Annotated[str | None, Query(max_length=200)] = None,
    runs_back: Annotated[int, Query(alias="runs", ge=2, le=200)] = 23,
) -> Json:
    target = project_for_read(who, project)
    with who.state.store.read() as conn:
        key = ("regressions", branch, runs_back)
        return Json(cached(who, conn, target, key, lambda c: regressions_report(c, target, branch, runs_back)))


@router.get("/lost", summary="Tests the latest run of a branch lost, and runs that ran fewer tests than collected")
def get_lost(
    who: Annotated[Caller, Depends(caller)],
    project: ProjectName,
    runs_back: Annotated[int, Query(alias="runs", ge=2, le=200)] = 20,
) -> Json:
    target = project_for_read(who, project)
    with who.state.store.read() as conn:
        return Json(cached(who, conn, target, ("lost", runs_back), lambda c: lost_report(c, target, runs_back)))


@router.get("/slow", summary="The slowest tests of the latest runs and their share of the suite's time")
def get_slow(
    who: Annotated[Caller, Depends(caller)],
    project: ProjectName,
    runs_back: Annotated[int, Query(alias="runs", ge=1, le=100)] = 10,
    limit: Annotated[int, Query(ge=1, le=1000)] = 20,
) -> Json:
    target = project_for_read(who, project)
    with who.state.store.read() as conn:
        run_ids = history.recent_runs(conn, target.id, runs_back)
        rows = history.outcomes(conn, run_ids)
    return Json({"project": target.name, "runs": len(run_ids), "slowest": [asdict(s) for s in slowest(rows, limit)]})


@router.get("/failures", summary="Failures grouped by fingerprint: count, tests, first and last seen, a message")
def get_failures(
    who: Annotated[Caller, Depends(caller)],
    project: ProjectName,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    days: Annotated[int | None, Query(ge=1, le=3650, description="only the failures of the last days")] = None,
) -> Json:
    target = project_for_read(who, project)
    since = days_ago(days)[:10] if days else None  # from a day's start: one cache entry a day
    with who.state.store.read() as conn:
        key = ("failures", limit, since)
        return Json(cached(who, conn, target, key, lambda c: failures_report(c, target, limit, since)))
