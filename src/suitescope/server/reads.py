"""Read routes: projects, runs, a run with its tests, a test's history, environments, trends.

Private projects need a read token of the project (or an admin token); public ones are open. Anything the
caller may not read answers 404, the same as what does not exist, so a token cannot probe for names.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy import Connection

from suitescope.schema.records import Status
from suitescope.server.auth import Caller, caller, project_for_read
from suitescope.server.clock import normalise
from suitescope.server.errors import ApiError
from suitescope.server.findings import tests_table
from suitescope.server.responses import Json
from suitescope.server.store import reads
from suitescope.server.store.accounts import create_project, list_projects, project_by_id

router = APIRouter(prefix="/api/v1", tags=["read"])

ProjectName = Annotated[str, Query(min_length=1, max_length=200, description="project name, as `vendor/name`")]
Limit = Annotated[int, Query(ge=1, le=1000)]
Period = Annotated[Literal["day", "month"], Query(description="one point per day or per month")]


def _time(value: str | None, name: str) -> str | None:
    if value is None:
        return None
    try:
        return normalise(value)
    except ValueError:
        raise ApiError(
            422,
            f"{name} is not a time",
            [{"loc": ["query", name], "msg": "use ISO 8601, e.g. 2026-11-22 or 2026-11-22T10:00:00Z"}],
        ) from None


Since = Annotated[str | None, Query(description="from this time (ISO 8601), inclusive")]
Until = Annotated[str | None, Query(description="up to this time (ISO 8601), exclusive")]


@router.get("/projects", summary="Projects this caller can read")
def get_projects(who: Annotated[Caller, Depends(caller)]) -> dict[str, Any]:
    with who.state.store.read() as conn:
        found = list_projects(conn)
    visible = [p for p in found if who.may_read(p) and (not p.anonymous or who.is_admin)]
    return {"projects": [{"name": p.name, "public": p.public} for p in visible]}


class NewProject(BaseModel):
    name: str = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")
    public: bool = False


@router.post("/projects", status_code=201, summary="Create a project (admin token)")
def post_project(body: NewProject, who: Annotated[Caller, Depends(caller)]) -> dict[str, Any]:
    if not who.is_admin:
        raise ApiError(
            403, "creating projects needs an admin token", [{"loc": ["header", "authorization"], "msg": "not admin"}]
        )
    with who.state.store.begin() as conn:
        project = create_project(conn, body.name, public=body.public)
    return {"name": project.name, "public": project.public}


@router.get("/runs", summary="Runs of a project, newest first")
def get_runs(
    who: Annotated[Caller, Depends(caller)],
    project: ProjectName,
    branch: str | None = None,
    environment: str | None = None,
    since: Since = None,
    until: Until = None,
    limit: Limit = 50,
) -> dict[str, Any]:
    target = project_for_read(who, project)
    with who.state.store.read() as conn:
        found = reads.list_runs(
            conn,
            target.id,
            branch=branch,
            environment=environment,
            since=_time(since, "since"),
            until=_time(until, "until"),
            limit=limit,
        )
    return {"project": target.name, "runs": found}


def _readable(who: Caller, conn: Connection, row: dict[str, Any] | None, what: str, key: str) -> dict[str, Any]:
    """`row` (a run or a test) with its project's name, or 404 when it is missing or the caller may not read it."""
    project = project_by_id(conn, row["project_id"]) if row else None
    if row is None or project is None or not who.may_read(project):
        raise ApiError(
            404, f"no {what} {key!r} that this caller can read", [{"loc": ["path", f"{what}_id"], "msg": "unknown"}]
        )
    row["project"] = project.name
    return row


@router.get("/runs/{run_id}", summary="A run: its record, summary and test results")
def get_run(
    run_id: str,
    who: Annotated[Caller, Depends(caller)],
    status: Annotated[list[Status] | None, Query(description="only results with these statuses")] = None,
    order: Annotated[
        Literal["recorded", "slowest"], Query(description="as the run recorded them, or slowest first")
    ] = "recorded",
    limit: Annotated[int, Query(ge=1, le=20_000)] = 1000,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Json:
    """The run record, its summary columns, and its results (a page of them: `results_total` says how many)."""
    with who.state.store.read() as conn:
        run = _readable(who, conn, reads.get_run(conn, run_id), "run", run_id)
        total, found = reads.run_results(conn, run_id, list(status or ()), order == "slowest", limit, offset)
    run["results_total"] = total
    run["results"] = found
    return Json(run)


@router.get("/tests/{test_id}", summary="A test and its latest results, newest first")
def get_test(test_id: str, who: Annotated[Caller, Depends(caller)], limit: Limit = 100) -> dict[str, Any]:
    with who.state.store.read() as conn:
        test = _readable(who, conn, reads.get_test(conn, test_id), "test", test_id)
        test["history"] = reads.results_of_test(conn, test_id, limit)
        test["trend"] = reads.trend(conn, test_id, None, None, monthly=False)[-90:]
        since = test["history"][-1]["started_at"] if test["history"] else "9999"
        test["queries"] = reads.queries_of_test(conn, test_id, since)
        test["network"] = reads.hosts_of_test(conn, test_id, since)
    return test


TestSort = Literal["slowest", "flakiest", "failing", "queries", "memory", "network", "name"]
TestHas = Literal["failures", "flaky", "n_plus_one", "network"]


@router.get("/tests", summary="The tests of a project's latest runs: slowest, flakiest, most queries, memory, network")
def get_tests(
    who: Annotated[Caller, Depends(caller)],
    project: ProjectName,
    sort: TestSort = "slowest",
    contains: Annotated[str | None, Query(max_length=200, description="only tests whose id contains this")] = None,
    has: Annotated[TestHas | None, Query(description="only tests with failures, flips, N+1 or other hosts")] = None,
    runs: Annotated[int, Query(ge=1, le=200, description="how many of the latest runs to read")] = 30,
    branch: Annotated[str | None, Query(max_length=200)] = None,
    environment: Annotated[str | None, Query(max_length=200)] = None,
    since: Since = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Json:
    """One row per test of the runs read, with its durations in them (`sparkline`, oldest first)."""
    target = project_for_read(who, project)
    window = (runs, branch, environment, _time(since, "since"))
    with who.state.store.read() as conn:
        count, rows, stale = tests_table(who, conn, target, window, sort=sort, contains=contains, has=has, limit=limit)
    return Json({"project": target.name, "runs": count, "sort": sort, "stale": stale, "tests": rows})


@router.get("/environments", summary="Runs by Python version, framework, OS, arch or CI, over time")
def get_environments(
    who: Annotated[Caller, Depends(caller)],
    by: Annotated[Literal[reads.DIMENSIONS], Query(description="the dimension to split runs by")] = "python_version",  # type: ignore[valid-type]
    project: Annotated[
        str | None, Query(max_length=200, description="one project; all public ones if left out")
    ] = None,
    since: Since = None,
    until: Until = None,
    period: Period = "day",
) -> dict[str, Any]:
    project_id = project_for_read(who, project).id if project is not None else None
    with who.state.store.read() as conn:
        points = reads.environments(
            conn, by, project_id, _time(since, "since"), _time(until, "until"), period == "month"
        )
    return {"project": project, "by": by, "period": period, "points": points}


@router.get("/trends", summary="Suite size and health over time: tests, assertions, duration, memory")
def get_trends(
    who: Annotated[Caller, Depends(caller)],
    project: ProjectName,
    since: Since = None,
    until: Until = None,
    period: Period = "day",
) -> dict[str, Any]:
    target = project_for_read(who, project)
    with who.state.store.read() as conn:
        points = reads.project_trend(conn, target.id, _time(since, "since"), _time(until, "until"), period == "month")
        coverage = reads.coverage_trend(conn, target.id, _time(since, "since"), period == "month")
    for point in points:
        point["tests_avg"] = point["tests"] / point["runs"] if point["runs"] else None
    return {"project": target.name, "period": period, "points": points, "coverage": coverage}
