"""Ingest routes: a run as our NDJSON or JSON (gzip welcome), and the status of a queued report.

A report is parsed and validated here, before anything is queued, so a bad one is answered at once with what
is wrong; a good one is put on the queue *as received* and 202 is answered only once the queue has it on disk.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from suitescope.server.auth import Caller, caller, project_for_write
from suitescope.server.body import Body, Limits, gunzip, read_body
from suitescope.server.clock import is_time
from suitescope.server.errors import ApiError
from suitescope.server.junit import JunitTags, parse_junit
from suitescope.server.queue import NewJob, Part
from suitescope.server.reports import JSON_TYPE, RUN_ID, Report, media_type, read_part, read_report
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


@dataclass
class PartOf:
    """A run sent in parts (large runs): `run_id`, and which `part` of how many `parts` this request is."""

    run_id: Annotated[str | None, Query(max_length=64, description="the run a part belongs to")] = None
    part: Annotated[int | None, Query(ge=1, le=10_000, description="this part's number, from 1")] = None
    parts: Annotated[int | None, Query(ge=1, le=10_000, description="how many parts the run was cut into")] = None


@router.post("/runs", status_code=202, summary="Send a run (NDJSON or JSON, gzip allowed)", openapi_extra=RUN_BODY)
async def post_run(
    request: Request,
    who: Annotated[Caller, Depends(caller)],
    labels: Annotated[Labels, Depends()],
    piece: Annotated[PartOf, Depends()],
) -> Json:
    """Queue one run: the lines of a `.telemetry/<run_id>.ndjson` file (`application/x-ndjson`), or
    `{"run": {...}, "tests": [...]}` (`application/json`). Answers 202 once the report is durable.

    The run is stored under the token's project (an admin token names it with `project`), whatever name the
    run record gives itself; `environment`, `branch` and `commit` label the run where the record cannot.
    A large run can come in parts (`run_id`, `part`, `parts`; NDJSON, one run record in one of them): each part
    is checked as it comes, and the run is queued, whole, when the last one is in."""
    target = project_for_write(who, labels.project)
    kind = media_type(request.headers.get("content-type"))
    body = await read_body(request, who.state.settings.limits)
    if piece.parts is not None or piece.part is not None or piece.run_id is not None:
        return await _post_part(request, who, labels.tags(target, "suitescope"), body, kind, piece)
    report = await run_in_threadpool(read_report, body.data, kind, who.state.settings.limits)
    return await enqueue(request, who, report, labels.tags(target, "suitescope"), body, kind)


async def _post_part(request: Request, who: Caller, tags: Tags, body: Body, kind: str, piece: PartOf) -> Json:
    run_id, part, parts = piece.run_id, piece.part, piece.parts
    if run_id is None or part is None or parts is None or part > parts or not RUN_ID.fullmatch(run_id):
        raise ApiError(
            422,
            "a part needs run_id, part and parts, with 1 <= part <= parts",
            [{"loc": ["query", name], "msg": "missing or out of range"} for name in ("run_id", "part", "parts")],
        )
    limits = who.state.settings.limits
    has_run, tests = await run_in_threadpool(read_part, body.data, kind, limits, run_id)
    meta: dict[str, Any] = {"tags": tags.__dict__, "content_type": kind, "encoding": body.encoding}
    queue = who.state.queue
    received = await run_in_threadpool(
        queue.put_part, Part(run_id, tags.project_id, part, parts, meta, body.raw, has_run, tests)
    )
    job = None
    if received == parts:
        try:
            job = await run_in_threadpool(queue.assemble, run_id, parts, functools.partial(whole_run, limits))
        except ApiError:
            await run_in_threadpool(queue.drop_parts, run_id)  # the run cannot be made whole: start again
            raise
        who.state.metrics.add("suitescope_reports_accepted_total", label=f"source={tags.source}")
    status_url = str(request.url_for("report_status", run_id=run_id))
    return Json(
        {
            "run_id": run_id,
            "status_url": status_url,
            "part": part,
            "parts": parts,
            "parts_received": received,
            "complete": job is not None,
        },
        status_code=202,
    )


def whole_run(limits: Limits, parts: list[Part]) -> NewJob:
    """The job of a run whose parts are all in: their NDJSON, in order, as one body."""
    runs = sum(p.has_run for p in parts)
    if runs != 1:
        raise ApiError(
            422,
            f"the parts of a run hold exactly one run record, these hold {runs}",
            [{"loc": ["body"], "msg": "send the run record in one part"}],
        )
    tests = sum(p.tests for p in parts)
    if tests > limits.max_records:
        raise ApiError(
            413,
            f"the run has {tests:,} test records, over the server's limit of {limits.max_records:,}",
            [{"loc": ["body"], "msg": "split the run"}],
        )
    chunks = [gunzip(p.body, limits.max_decompressed) if p.meta["encoding"] == "gzip" else p.body for p in parts]
    data = b"".join(chunk if chunk.endswith(b"\n") else chunk + b"\n" for chunk in chunks)
    meta = {**parts[0].meta, "encoding": "identity", "content_type": "application/x-ndjson"}
    return NewJob(parts[0].run_id, parts[0].project_id, meta, data)


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
    partial = who.state.queue.parts_received(run_id)
    if job is None and partial is not None and who.may_see_status(partial[2]):
        return {
            "run_id": run_id,
            "state": "partial",
            "attempts": None,
            "error": None,
            "parts_received": partial[0],
            "parts": partial[1],
        }
    if job is not None and who.may_see_status(job.project_id):
        state = {"ready": "retrying" if job.last_error else "queued", "leased": "queued"}.get(job.state, job.state)
        return {"run_id": run_id, "state": state, "attempts": job.attempts, "error": job.last_error}
    with who.state.store.read() as conn:
        row = conn.execute(runs.select().with_only_columns(runs.c.project_id).where(runs.c.run_id == run_id)).first()
    if row is not None and who.may_see_status(row.project_id):
        return {"run_id": run_id, "state": "stored", "attempts": None, "error": None}
    raise ApiError(404, f"no report {run_id!r} that this token sent", [{"loc": ["path", "run_id"], "msg": "unknown"}])
