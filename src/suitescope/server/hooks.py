"""Annotations in: GitHub release webhooks (signed), and any other event posted with an ingest token.

GitHub signs each delivery with the project's webhook secret (`X-Hub-Signature-256: sha256=<hex HMAC>`); the
signature is checked in constant time before the payload is even parsed. Only release events whose `action`
publishes a release become annotations; a `ping` is answered, anything else is acknowledged and ignored, so
GitHub never marks the hook as failing. `v1.2.3` and `1.2.3` are the same version.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from suitescope.server.auth import Caller, caller, project_for_read, project_for_write
from suitescope.server.body import read_body
from suitescope.server.clock import is_time, normalise, now_iso
from suitescope.server.errors import ApiError
from suitescope.server.responses import Json
from suitescope.server.store.accounts import find_project, webhook_secret
from suitescope.server.store.annotations import add_annotation, list_annotations

router = APIRouter(prefix="/api/v1", tags=["annotations"])

PUBLISHING = frozenset({"published", "released", "prereleased"})
_VERSION = re.compile(r"^[vV](?=\d)")


class GithubRelease(BaseModel):
    model_config = ConfigDict(extra="ignore")  # GitHub's payloads carry far more than we read, and grow

    tag_name: str = Field(max_length=200)
    name: str | None = Field(default=None, max_length=500)
    html_url: str | None = Field(default=None, max_length=2000)
    published_at: str | None = None
    prerelease: bool = False


class GithubReleaseEvent(BaseModel):
    model_config = ConfigDict(extra="ignore")

    action: str = Field(max_length=50)
    release: GithubRelease


def version_of(tag: str) -> str:
    return _VERSION.sub("", tag.strip())


def check_signature(secret: str, body: bytes, header: str | None) -> None:
    if not header:
        raise ApiError(
            401, "the delivery is not signed", [{"loc": ["header", "x-hub-signature-256"], "msg": "missing"}]
        )
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), header.strip().encode()):
        raise ApiError(
            401,
            "the signature does not match this project's webhook secret",
            [{"loc": ["header", "x-hub-signature-256"], "msg": "check the secret set on GitHub"}],
        )


@router.post(
    "/hooks/github",
    summary="GitHub webhook: releases become annotations",
    openapi_extra={
        "requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}},
        "parameters": [
            {"name": "X-Hub-Signature-256", "in": "header", "required": True, "schema": {"type": "string"}},
            {"name": "X-GitHub-Event", "in": "header", "required": True, "schema": {"type": "string"}},
        ],
    },
)
async def github_hook(
    request: Request,
    project: Annotated[str, Query(min_length=1, max_length=200, description="the project the repository feeds")],
) -> Json:
    """Point a GitHub webhook (content type `application/json`, the *release* event) at
    `/api/v1/hooks/github?project=vendor/name`, with the secret from `suitescope project webhook`."""
    state = request.app.state.suitescope
    with state.store.read() as conn:
        found = find_project(conn, project)
        secret = webhook_secret(conn, found.id) if found else None
    if found is None or secret is None:
        raise ApiError(
            404,
            f"no project {project!r} with a webhook secret",
            [{"loc": ["query", "project"], "msg": "set one with `suitescope project webhook NAME`"}],
        )
    body = await read_body(request, state.settings.limits)
    check_signature(secret, body.data, request.headers.get("x-hub-signature-256"))
    event = request.headers.get("x-github-event", "")
    if event == "ping":
        return Json({"ok": True, "event": "ping"})
    if event != "release":
        return Json({"ok": True, "ignored": f"event {event or '(none)'!r} is not used"})
    try:
        payload = GithubReleaseEvent.model_validate(orjson.loads(body.data))
    except orjson.JSONDecodeError as exc:
        raise ApiError(400, "the body is not valid JSON", [{"loc": ["body"], "msg": str(exc)}]) from None
    except ValidationError as exc:
        detail = [{"loc": ["body", *err["loc"]], "msg": err["msg"]} for err in exc.errors()[:20]]
        raise ApiError(422, "not a GitHub release event", detail) from None
    if payload.action not in PUBLISHING:
        return Json({"ok": True, "ignored": f"action {payload.action!r}"})
    release = payload.release
    version = version_of(release.tag_name)
    values = {
        "at": normalise(release.published_at) if release.published_at and is_time(release.published_at) else now_iso(),
        "kind": "release",
        "title": release.name or release.tag_name,
        "version": version,
        "url": release.html_url,
        "source": "github",
        "dedupe_key": f"release:{version}",
    }
    annotation_id, created = await run_in_threadpool(_add, state, found.id, values)
    return Json({"id": annotation_id, "created": created, "version": version}, status_code=201 if created else 200)


class NewAnnotation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: str = Field(min_length=1, max_length=32, pattern=r"^[a-z][a-z0-9_-]*$", examples=["deploy"])
    title: str = Field(min_length=1, max_length=500)
    at: str | None = Field(default=None, description="when (ISO 8601); now if left out")
    version: str | None = Field(default=None, max_length=100)
    url: str | None = Field(default=None, max_length=2000)
    key: str | None = Field(default=None, max_length=150, description="posting the same key again changes nothing")


@router.post("/annotations", status_code=201, summary="Add an annotation (deploy, dependency bump, ...)")
def post_annotation(
    body: NewAnnotation,
    who: Annotated[Caller, Depends(caller)],
    project: Annotated[str | None, Query(max_length=200)] = None,
) -> Json:
    target = project_for_write(who, project)
    if body.at is not None and not is_time(body.at):
        raise ApiError(422, "at is not a time", [{"loc": ["body", "at"], "msg": "use ISO 8601"}])
    at = normalise(body.at) if body.at else now_iso()
    version = version_of(body.version) if body.version else None
    values = {
        "at": at,
        "kind": body.kind,
        "title": body.title,
        "version": version,
        "url": body.url,
        "source": "api",
        "dedupe_key": f"{body.kind}:{body.key or version or at}",
    }
    annotation_id, created = _add(who.state, target.id, values)
    return Json({"id": annotation_id, "created": created}, status_code=201 if created else 200)


@router.get("/annotations", summary="A project's annotations, oldest first")
def get_annotations(
    who: Annotated[Caller, Depends(caller)],
    project: Annotated[str, Query(min_length=1, max_length=200)],
    since: str | None = None,
    until: str | None = None,
) -> dict[str, Any]:
    target = project_for_read(who, project)
    for name, value in (("since", since), ("until", until)):
        if value is not None and not is_time(value):
            raise ApiError(422, f"{name} is not a time", [{"loc": ["query", name], "msg": "use ISO 8601"}])
    with who.state.store.read() as conn:
        found = list_annotations(conn, target.id, since and normalise(since), until and normalise(until))
    return {"project": target.name, "annotations": found}


def _add(state: Any, project_id: int, values: dict[str, Any]) -> tuple[int, bool]:
    with state.store.begin() as conn:
        return add_annotation(conn, project_id, values)
