"""Ingest routes: a run as our NDJSON or JSON (gzip welcome), and the status of a queued report.

A report is parsed and validated here, before anything is queued, so a bad one is answered at once with what
is wrong; a good one is put on the queue *as received* and 202 is answered only once the queue has it on disk.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from suitescope.server.auth import Caller, caller, project_for_write
from suitescope.server.body import Body, read_body
from suitescope.server.clock import is_time
from suitescope.server.errors import ApiError
from suitescope.server.junit import JunitTags, parse_junit
from suitescope.server.queue import NewJob
from suitescope.server.reports import JSON_TYPE, Report, media_type, read_report
from suitescope.server.responses import Json
from suitescope.server.store.accounts import Project
from suitescope.server.store.tables import runs
from suitescope.server.store.writes import Tags

router = APIRouter(prefix="/api/v1", tags=["ingest"])

Label = Annotated[str | None, Query(max_length=200, pattern=r"^[^\x00-\x1f]*$")]


@dataclass
class Labels:
    """The query parameters every ingest route takes: where the run goes, and what the record cannot say."""

    project: Label = None
    environment: Label = None
    branch: Label = None
    commit: Label = None

    def tags(self, target: Project, source: str) -> Tags:
        return Tags(target.id, target.name, source, self.environment, self.branch, self.commit)


# The bodies are read as streams (limits, gzip), so FastAPI cannot describe them: this does, for /docs and for
# the schema-driven fuzz test.
RUN_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/x-ndjson": {"schema": {"type": "string", "description": "the lines of a .ndjson run file"}},
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["run", "tests"],
                    "properties": {"run": {"type": "object"}, "tests": {"type": "array", "items": {"type": "object"}}},
                }
            },
        },
    }
}
XML_BODY = {"requestBody": {"required": True, "content": {"application/xml": {"schema": {"type": "string"}}}}}


@router.post("/runs", status_code=202, summary="Send a run (NDJSON or JSON, gzip allowed)", openapi_extra=RUN_BODY)
async def post_run(
    request: Request, who: Annotated[Caller, Depends(caller)], labels: Annotated[Labels, Depends()]
) -> Json:
    """Queue one run: the lines of a `.telemetry/<run_id>.ndjson` file (`application/x-ndjson`), or
    `{"run": {...}, "tests": [...]}` (`application/json`). Answers 202 once the report is durable.

    The run is stored under the token's project (an admin token names it with `project`), whatever name the
    run record gives itself; `environment`, `branch` and `commit` label the run where the record cannot."""
    target = project_for_write(who, labels.project)
    kind = media_type(request.headers.get("content-type"))
    body = await read_body(request, who.state.settings.limits)
    report = await run_in_threadpool(read_report, body.data, kind, who.state.settings.limits)
    return await enqueue(request, who, report, labels.tags(target, "suitescope"), body, kind)


XML_TYPES = frozenset({"application/xml", "text/xml", "application/junit+xml"})


@router.post(
    "/junit", status_code=202, summary="Send a JUnit XML file, from any language's test tool", openapi_extra=XML_BODY
)
async def post_junit(
    request: Request,
    who: Annotated[Caller, Depends(caller)],
    labels: Annotated[Labels, Depends()],
    framework: Label = None,
    framework_version: Label = None,
    started: Annotated[
        str | None, Query(description="when the run started (ISO 8601), if the XML has no timestamp")
    ] = None,
) -> Json:
    """Queue a JUnit XML report (pytest, Maven Surefire with its flaky and rerun failures, Jest, gotestsum...)
    as one run. `branch`, `commit` and `environment` label it; the framework is recognised from the XML unless
    named. Answers 202 with the run_id the server gave it."""
    target = project_for_write(who, labels.project)
    kind = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    if kind not in XML_TYPES:
        raise ApiError(
            415,
            f"Content-Type {kind or '(none)'!r} is not supported here",
            [{"loc": ["header", "content-type"], "msg": "send the JUnit file as application/xml"}],
        )
    if started is not None and not is_time(started):
        raise ApiError(422, "started is not a time", [{"loc": ["query", "started"], "msg": "use ISO 8601"}])
    body = await read_body(request, who.state.settings.limits)
    report = await run_in_threadpool(parse_junit, body.data, JunitTags(framework, framework_version, started))
    if len(report.tests) > who.state.settings.limits.max_records:
        raise ApiError(413, "the report has too many test cases", [{"loc": ["body"], "msg": "split the file"}])
    converted = orjson.dumps({"run": report.run, "tests": report.tests})
    await run_in_threadpool(read_report, converted, JSON_TYPE, who.state.settings.limits)  # ours must be valid too
    return await enqueue(
        request, who, report, labels.tags(target, "junit"), Body(converted, "identity", converted), JSON_TYPE
    )


async def enqueue(request: Request, who: Caller, report: Report, tags: Tags, body: Body, kind: str) -> Json:
    """Put a validated report on the queue (as received: nothing re-encoded) and answer 202."""
    meta: dict[str, Any] = {"tags": tags.__dict__, "content_type": kind, "encoding": body.encoding}
    job = NewJob(report.run_id, tags.project_id, meta, body.raw)
    await run_in_threadpool(who.state.queue.put, job)
    who.state.metrics.add("suitescope_reports_accepted_total", label=f"source={tags.source}")
    status_url = str(request.url_for("report_status", run_id=report.run_id))
    return Json(
        {"run_id": report.run_id, "status_url": status_url, "tests": len(report.tests)},
        status_code=202,
        headers={"Location": status_url},
    )


@router.get("/reports/{run_id}", name="report_status", summary="Where a sent report is: queued, stored, dead")
def report_status(run_id: str, who: Annotated[Caller, Depends(caller)]) -> dict[str, Any]:
    """`queued` (waiting or being stored), `retrying` (failed, will be tried again), `dead` (gave up: see
    `suitescope queue ls --dead`), or `stored`. 404 when unknown, or not this token's project."""
    job = who.state.queue.status(run_id)
    if job is not None and who.may_see_status(job.project_id):
        state = {"ready": "retrying" if job.last_error else "queued", "leased": "queued"}.get(job.state, job.state)
        return {"run_id": run_id, "state": state, "attempts": job.attempts, "error": job.last_error}
    with who.state.store.read() as conn:
        row = conn.execute(runs.select().with_only_columns(runs.c.project_id).where(runs.c.run_id == run_id)).first()
    if row is not None and who.may_see_status(row.project_id):
        return {"run_id": run_id, "state": "stored", "attempts": None, "error": None}
    raise ApiError(404, f"no report {run_id!r} that this token sent", [{"loc": ["path", "run_id"], "msg": "unknown"}])
