"""Dashboard pages. Each reads what its JSON twin reads (the same store queries and findings), renders it with
autoescaping on (a test named `<script>` is text), and embeds chart data as JSON that Jinja escapes for a
<script> element. A private project needs its read token: once, through a form, then a cookie."""

from __future__ import annotations

import re
import statistics
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy import Connection

from suitescope.server.auth import TOKEN_COOKIE, Caller, caller
from suitescope.server.clock import days_ago, parse_iso
from suitescope.server.errors import ApiError
from suitescope.server.findings import (
    cached,
    failures_report,
    flaky_report,
    lost_report,
    regressions_report,
    tests_table,
)
from suitescope.server.state import state_of
from suitescope.server.store import reads, testtable
from suitescope.server.store.accounts import Project, find_project, list_projects, principal, project_by_id
from suitescope.server.store.annotations import list_annotations
from suitescope.server.store.writes import test_id

HERE = Path(__file__).parent
PROJECT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,199}")
templates = Jinja2Templates(directory=HERE / "templates")
router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def home(request: Request, who: Annotated[Caller, Depends(caller)]) -> HTMLResponse:
    with who.state.store.read() as conn:
        found = [p for p in list_projects(conn) if who.may_read(p) and not p.anonymous]
    return templates.TemplateResponse(request, "home.html", {"projects": found})


def _project(who: Caller, conn: Connection, name: str) -> Project | None:
    target = find_project(conn, name)
    return target if target is not None and who.may_read(target) else None


def _ask_token(request: Request, project: str) -> HTMLResponse:
    """404 with the form for a read token: the same answer whether the project is private or missing."""
    return templates.TemplateResponse(request, "token.html", {"project": project}, status_code=404)


# Each page of a project before the overview: its {project:path} would take `vendor/name/failures` for a name.
@router.get("/p/{project:path}/failures", response_class=HTMLResponse)
def failures_page(
    request: Request,
    project: str,
    who: Annotated[Caller, Depends(caller)],
    days: Annotated[int, Query(ge=1, le=3650)] = 90,
) -> HTMLResponse:
    """A project's failures of the last days grouped by fingerprint, with the tests they hit and when."""
    since = days_ago(days)[:10]  # from a day's start: one cache entry a day
    key = (100, since, days)
    return _findings_page(request, project, who, "failures", key, lambda c, t: failures_report(c, t, 100, since))


@router.get("/p/{project:path}/tests", response_class=HTMLResponse)
def table_page(
    request: Request,
    project: str,
    who: Annotated[Caller, Depends(caller)],
    sort: Annotated[str, Query(max_length=16)] = "slowest",
    contains: Annotated[str | None, Query(max_length=200)] = None,
    has: Annotated[str | None, Query(max_length=16)] = None,
    runs: Annotated[int, Query(ge=1, le=200)] = 30,
    branch: Annotated[str | None, Query(max_length=200)] = None,
    environment: Annotated[str | None, Query(max_length=200)] = None,
    days: Annotated[int, Query(ge=1, le=3650)] = 90,
) -> HTMLResponse:
    """The tests of the latest runs, sortable (slowest, flakiest, queries, memory, network) and filterable,
    each with a sparkline of its durations."""
    sort = sort if sort in testtable.SORTS else "slowest"
    has = has if has in testtable.HAS else None
    branch, environment, contains = branch or None, environment or None, contains or None
    with who.state.store.read() as conn:
        if (target := _project(who, conn, project)) is None:
            return _ask_token(request, project)
        window = (runs, branch, environment, days_ago(days)[:10])  # from a day's start: one cache entry a day
        count, rows, stale = tests_table(who, conn, target, window, sort=sort, contains=contains, has=has, limit=100)
    for row in rows:
        row["spark"] = sparkline(row["sparkline"])
    filters = {
        "sort": sort,
        "contains": contains,
        "has": has,
        "runs": runs,
        "branch": branch,
        "environment": environment,
        "days": days,
    }
    given = {k: v for k, v in filters.items() if v is not None}
    context = {
        "project": target,
        "tests": rows,
        "runs_read": count,
        "stale": stale,
        "f": filters,
        "page": "tests",
        "sorts": list(testtable.SORTS),
        "has_choices": list(testtable.HAS),
        "sort_links": {key: "?" + urllib.parse.urlencode({**given, "sort": key}) for key in testtable.SORTS},
        "json_url": "/api/v1/tests?"
        + urllib.parse.urlencode({"project": target.name, **{k: v for k, v in given.items() if k != "days"}}),
    }
    return templates.TemplateResponse(request, "tests.html", context)


def sparkline(values: list[float], width: int = 120, height: int = 22) -> str:
    """The points of an SVG polyline for these values (numbers only, so safe in a template)."""
    if len(values) < 2:
        return ""
    top, low = max(values), min(values)
    span = (top - low) or 1.0
    step = width / (len(values) - 1)
    return " ".join(f"{i * step:.1f},{height - 1 - (v - low) / span * (height - 2):.1f}" for i, v in enumerate(values))


@router.get("/p/{project:path}/flaky", response_class=HTMLResponse)
def flaky_page(
    request: Request,
    project: str,
    who: Annotated[Caller, Depends(caller)],
    runs: Annotated[int, Query(ge=2, le=1000)] = 200,
    branch: Annotated[str | None, Query(max_length=200)] = None,
) -> HTMLResponse:
    """Flaky and broken tests with the runs that show it, infrastructure failures set apart."""
    branch = branch or None
    return _findings_page(request, project, who, "flaky", (runs, branch), lambda c, t: flaky_report(c, t, runs, branch))


@router.get("/p/{project:path}/regressions", response_class=HTMLResponse)
def regressions_page(
    request: Request,
    project: str,
    who: Annotated[Caller, Depends(caller)],
    branch: Annotated[str | None, Query(max_length=200)] = None,
    runs: Annotated[int, Query(ge=2, le=200)] = 23,
) -> HTMLResponse:
    """Tests slower since a run, tests running more queries, tests reaching new hosts."""
    branch = branch or None
    key = (branch, runs)
    return _findings_page(
        request, project, who, "regressions", key, lambda c, t: regressions_report(c, t, branch, runs)
    )


@router.get("/p/{project:path}/lost", response_class=HTMLResponse)
def lost_page(
    request: Request,
    project: str,
    who: Annotated[Caller, Depends(caller)],
    runs: Annotated[int, Query(ge=2, le=200)] = 20,
) -> HTMLResponse:
    """Tests the latest run of a branch no longer ran, and runs that ran fewer tests than they collected."""
    return _findings_page(request, project, who, "lost", (runs,), lambda c, t: lost_report(c, t, runs))


def _findings_page(
    request: Request,
    project: str,
    who: Caller,
    kind: str,
    params: tuple[Any, ...],
    compute: Callable[[Connection, Project], dict[str, Any]],
) -> HTMLResponse:
    """A findings page: the same cached findings as the API's (findcache.py), with links to tests and runs."""
    with who.state.store.read() as conn:
        if (target := _project(who, conn, project)) is None:
            return _ask_token(request, project)
        found = cached(who, conn, target, (kind, *params), lambda c: compute(c, target))
    link = {name: f"/tests/{test_id(target.name, name)}" for name in _tests_named(found)}
    context = {"project": target, "found": found, "link": link, "page": kind, "params": params}
    return templates.TemplateResponse(request, f"{kind}.html", context)


def _tests_named(found: dict[str, Any]) -> set[str]:
    return {item["test"] for value in found.values() if isinstance(value, list) for item in value if "test" in item}


@router.get("/p/{project:path}", response_class=HTMLResponse)
def overview(
    request: Request,
    project: str,
    who: Annotated[Caller, Depends(caller)],
    branch: Annotated[str | None, Query(max_length=200)] = None,
    environment: Annotated[str | None, Query(max_length=200)] = None,
    days: Annotated[int, Query(ge=1, le=3650)] = 90,
) -> HTMLResponse:
    """Runs over time, suite duration, size and coverage, annotations, latest runs, flaky and broken tests."""
    branch, environment = branch or None, environment or None
    with who.state.store.read() as conn:
        if (target := _project(who, conn, project)) is None:
            return _ask_token(request, project)
        since = days_ago(days)
        trend = reads.project_trend(conn, target.id, since, None, monthly=days > 180)
        coverage = reads.coverage_trend(conn, target.id, since, monthly=days > 180)
        latest = reads.list_runs(conn, target.id, branch=branch, environment=environment, limit=20)
        notes = list_annotations(conn, target.id, since, None)
        found = cached(who, conn, target, ("flaky", 200, None), lambda c: flaky_report(c, target, 200))
    flaky, broken = found["flaky"], found["broken"]
    context: dict[str, Any] = {
        "project": target,
        "page": "overview",
        "branch": branch,
        "environment": environment,
        "days": days,
        "runs": latest,
        "trend": trend,
        "annotations": notes,
        "flaky": [(f, f"/tests/{test_id(target.name, f['test'])}") for f in flaky[:10]],
        "broken": [(b, f"/tests/{test_id(target.name, b['test'])}") for b in broken[:10]],
        "flaky_total": len(flaky),
        "stale": found["stale"],
        "broken_total": len(broken),
        "charts": _charts(trend, coverage, notes),
    }
    return templates.TemplateResponse(request, "overview.html", context)


def _charts(trend: list[dict[str, Any]], coverage: list[dict[str, Any]], notes: list[dict[str, Any]]) -> dict[str, Any]:
    """Columns for uPlot: x as Unix seconds (one per period), then one list per series."""
    xs = [_x(p["period"]) for p in trend]
    return {
        "outcomes": [xs, [p["passed"] for p in trend], [p["failed"] for p in trend], [p["error"] for p in trend]],
        "duration": [xs, [round(p["duration_avg_ms"] or 0) for p in trend], [p["duration_p95_ms"] or 0 for p in trend]],
        "size": [
            xs,
            [round(p["tests"] / p["runs"]) if p["runs"] else 0 for p in trend],
            [round(p["assertions"] / p["runs"]) if p["runs"] else 0 for p in trend],
        ],
        "coverage": [[_x(p["period"]) for p in coverage], [p["coverage_pct"] for p in coverage]],
        "annotations": _chart_notes(notes),
    }


def _chart_notes(notes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Annotations as the charts draw them: a vertical line at their time, their version or title beside it."""
    return [{"x": int(parse_iso(n["at"]).timestamp()), "label": n["version"] or n["title"]} for n in notes]


@router.get("/environments", response_class=HTMLResponse)
def environments_page(
    request: Request,
    who: Annotated[Caller, Depends(caller)],
    project: Annotated[str | None, Query(max_length=200)] = None,
    by: Annotated[str, Query(max_length=32)] = "python_version",
    days: Annotated[int, Query(ge=1, le=3650)] = 90,
) -> HTMLResponse:
    """How runs split by Python version, framework, OS, arch or CI over time, for one project or for every
    public one (anonymous ones counted, never named), and the size of the suites."""
    if by not in reads.DIMENSIONS:
        by = "python_version"
    with who.state.store.read() as conn:
        target = _project(who, conn, project) if project else None
        if project and target is None:
            return _ask_token(request, project)
        since = days_ago(days)
        monthly = days > 180
        points = reads.environments(conn, by, target.id if target else None, since, None, monthly)
        sizes = reads.suite_sizes(conn, target.id if target else None, since)
        # A project's releases on its chart; the ecosystem's chart has no one project's releases to draw.
        notes = list_annotations(conn, target.id, since, None) if target else []
    periods = sorted({p["period"] for p in points})
    values = sorted({str(p["value"]) for p in points})
    count = {(p["period"], str(p["value"])): p["runs"] for p in points}
    totals = {v: sum(n for (_, value), n in count.items() if value == v) for v in values}
    all_runs = sum(totals.values()) or 1
    chart = {
        "split": [
            [_x(period) for period in periods],
            *[[count.get((period, v), 0) for period in periods] for v in values],
        ],
        "annotations": _chart_notes(notes),
    }
    context = {
        "project": target,
        "by": by,
        "days": days,
        "dimensions": reads.DIMENSIONS,
        "values": values,
        "shares": [(v, totals[v], totals[v] / all_runs) for v in sorted(values, key=lambda v: -totals[v])],
        "sizes": sizes,
        "charts": chart,
    }
    return templates.TemplateResponse(request, "environments.html", context)


def _readable_project(who: Caller, conn: Connection, row: dict[str, Any] | None) -> Project | None:
    """The project of a run or test row, if there is one and the caller may read it."""
    project = project_by_id(conn, row["project_id"]) if row else None
    return project if project is not None and who.may_read(project) else None


def _x(period: str) -> int:
    return int(parse_iso(period if len(period) == 10 else period + "-01").timestamp())


@router.get("/runs/{run_id}", response_class=HTMLResponse)
def run_page(request: Request, run_id: str, who: Annotated[Caller, Depends(caller)]) -> HTMLResponse:
    """A run: counts, environment, coverage, failures, slowest tests, and the branch's previous run."""
    with who.state.store.read() as conn:
        run = reads.get_run(conn, run_id)
        project = _readable_project(who, conn, run)
        if run is None or project is None:
            return templates.TemplateResponse(request, "missing.html", {"what": f"run {run_id}"}, status_code=404)
        _total, failures = reads.run_results(conn, run_id, ["failed", "error"], False, 200, 0)
        _total, slow = reads.run_results(conn, run_id, None, True, 15, 0)
        earlier = reads.list_runs(conn, project.id, branch=run["branch"], until=run["started_at"], limit=1)
        previous = earlier[0] if earlier else None
        changes = reads.run_changes(conn, run_id, previous["run_id"]) if previous else None
    context = {
        "run": run,
        "project": project,
        "failures": failures,
        "slowest": slow,
        "previous": previous,
        "changes": changes,
    }
    return templates.TemplateResponse(request, "run.html", context)


@router.get("/tests/{test_id}", response_class=HTMLResponse)
def test_page(request: Request, test_id: str, who: Annotated[Caller, Depends(caller)]) -> HTMLResponse:
    """A test: its outcome across runs, its duration over time with the baseline band, its failures."""
    with who.state.store.read() as conn:
        test = reads.get_test(conn, test_id)
        project = _readable_project(who, conn, test)
        if test is None or project is None:
            return templates.TemplateResponse(request, "missing.html", {"what": f"test {test_id}"}, status_code=404)
        results = reads.results_of_test(conn, test_id, 100)
        since = results[-1]["started_at"] if results else "9999"
        queries = reads.queries_of_test(conn, test_id, since)
        hosts = reads.hosts_of_test(conn, test_id, since)
    oldest_first = results[::-1]
    durations = [r["duration_ms"] for r in oldest_first if r["status"] == "passed"]
    median = statistics.median(durations) if durations else 0.0
    mad = statistics.median(abs(d - median) for d in durations) if durations else 0.0
    chart = {
        "duration": [
            [i for i, _ in enumerate(oldest_first)],
            [r["duration_ms"] for r in oldest_first],
            [median + 3 * 1.4826 * mad for _ in oldest_first],
            [max(median - 3 * 1.4826 * mad, 0) for _ in oldest_first],
        ],
        "annotations": [],
    }
    context = {
        "test": test,
        "project": project,
        "results": oldest_first,
        "charts": chart,
        "queries": queries,
        "hosts": hosts,
        "n_plus_one": {f["fingerprint"] for r in results for f in (r["extra"] or {}).get("n_plus_one") or ()},
    }
    return templates.TemplateResponse(request, "test.html", context)


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request) -> Any:
    """Keep a read token in an HttpOnly cookie, so a private project's pages open without it next time. A token
    that does not open the project is refused here, with the form again, and never kept."""
    form = urllib.parse.parse_qs((await request.body())[:4096].decode(errors="replace"))
    token, project = (form.get("token") or [""])[0].strip(), (form.get("project") or [""])[0]
    if not token or not PROJECT.fullmatch(project):
        raise ApiError(422, "a token and a project name are needed", [{"loc": ["body"], "msg": "token, project"}])
    state = state_of(request)
    with state.store.read() as conn:
        target = find_project(conn, project)
        found = principal(conn, token)
    if target is None or found is None or not Caller(found, state).may_read(target):
        context = {"project": project, "refused": True}
        return templates.TemplateResponse(request, "token.html", context, status_code=403)
    answer = RedirectResponse(f"/p/{project}", status_code=303)
    answer.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="strict", max_age=30 * 24 * 3600)
    return answer
