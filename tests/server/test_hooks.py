"""GitHub release webhooks (signatures good, bad, missing; actions; v-prefixes) and posted annotations."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import orjson
import pytest

from suitescope.server.store.accounts import find_project, set_webhook_secret
from tests.server.conftest import Server


@pytest.fixture
def secret(server: Server) -> str:
    with server.state.store.begin() as conn:
        project = find_project(conn, "acme/shop")
        assert project is not None
        return set_webhook_secret(conn, project.id)


def release_event(tag: str, action: str = "published", **extra: Any) -> dict[str, Any]:
    """A release event as GitHub sends it (trimmed: the real one has dozens more fields, which must not matter)."""
    return {
        "action": action,
        "release": {
            "id": 1,
            "tag_name": tag,
            "name": f"Release {tag}",
            "html_url": f"https://github.com/acme/shop/releases/tag/{tag}",
            "published_at": "2026-11-20T12:00:00Z",
            "prerelease": False,
            "author": {"login": "someone", "id": 7},
            "assets": [],
        },
        "repository": {"full_name": "acme/shop", "private": True},
        "sender": {"login": "someone"},
        **extra,
    }


def deliver(
    server: Server, payload: Any, secret: str | None, event: str = "release", signature: str | None = None
) -> Any:
    body = payload if isinstance(payload, bytes) else orjson.dumps(payload)
    headers = {"Content-Type": "application/json", "X-GitHub-Event": event, "X-GitHub-Delivery": "d-1"}
    if signature is not None:
        headers["X-Hub-Signature-256"] = signature
    elif secret is not None:
        headers["X-Hub-Signature-256"] = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return server.client.post("/api/v1/hooks/github", params={"project": "acme/shop"}, content=body, headers=headers)


def annotations(server: Server) -> list[dict[str, Any]]:
    answer = server.client.get("/api/v1/annotations", params={"project": "acme/shop"}, headers=server.auth("read"))
    assert answer.status_code == 200, answer.text
    found: list[dict[str, Any]] = answer.json()["annotations"]
    return found


def test_a_signed_release_becomes_an_annotation_once(server: Server, secret: str) -> None:
    answer = deliver(server, release_event("v1.2.3"), secret)
    assert answer.status_code == 201 and answer.json()["version"] == "1.2.3"
    again = deliver(server, release_event("1.2.3", action="released"), secret)  # same version, no "v"
    assert again.status_code == 200 and again.json() == {
        "id": answer.json()["id"],
        "created": False,
        "version": "1.2.3",
    }
    (note,) = annotations(server)
    assert note["kind"] == "release" and note["version"] == "1.2.3" and note["source"] == "github"
    assert note["at"] == "2026-11-20T12:00:00.000Z" and note["title"] == "Release v1.2.3"


def test_bad_and_missing_signatures_are_401(server: Server, secret: str) -> None:
    assert deliver(server, release_event("v1.0.0"), None).status_code == 401
    assert deliver(server, release_event("v1.0.0"), secret, signature="sha256=" + "0" * 64).status_code == 401
    assert deliver(server, release_event("v1.0.0"), "another-secret").status_code == 401
    assert deliver(server, release_event("v1.0.0"), secret, signature="md5=abc").status_code == 401
    assert annotations(server) == []


def test_other_actions_events_and_ping_are_acknowledged_and_ignored(server: Server, secret: str) -> None:
    assert deliver(server, release_event("v2.0.0", action="deleted"), secret).json()["ignored"] == "action 'deleted'"
    assert deliver(server, {"zen": "Keep it simple", "hook_id": 1}, secret, event="ping").json()["event"] == "ping"
    assert "is not used" in deliver(server, {"ref": "main"}, secret, event="push").json()["ignored"]
    assert annotations(server) == []


def test_a_malformed_release_payload_is_4xx(server: Server, secret: str) -> None:
    assert deliver(server, b"{not json", secret).status_code == 400
    answer = deliver(server, {"action": "published", "release": {"name": "no tag"}}, secret)
    assert answer.status_code == 422 and answer.json()["detail"][0]["loc"] == ["body", "release", "tag_name"]


def test_a_project_without_a_webhook_secret_is_404(server: Server) -> None:
    answer = deliver(server, release_event("v1.0.0"), "whatever")
    assert answer.status_code == 404 and "suitescope project webhook" in answer.json()["detail"][0]["msg"]


def test_posted_annotations(server: Server) -> None:
    def post(body: dict[str, Any], who: str = "ingest") -> Any:
        return server.client.post("/api/v1/annotations", json=body, headers=server.auth(who))

    first = post({"kind": "deploy", "title": "deploy to prod", "at": "2026-11-21T08:00:00Z", "key": "deploy-881"})
    assert first.status_code == 201
    assert post({"kind": "deploy", "title": "deploy to prod (retried)", "key": "deploy-881"}).status_code == 200
    assert post({"kind": "dependency", "title": "Django 5.2", "version": "v5.2", "at": "2026-11-22"}).status_code == 201
    found = annotations(server)
    assert [(a["kind"], a["title"], a["version"]) for a in found] == [
        ("deploy", "deploy to prod", None),
        ("dependency", "Django 5.2", "5.2"),
    ]
    window = server.client.get(
        "/api/v1/annotations", params={"project": "acme/shop", "since": "2026-11-22"}, headers=server.auth("read")
    )
    assert [a["kind"] for a in window.json()["annotations"]] == ["dependency"]
    assert post({"kind": "deploy", "title": "x"}, who="read").status_code == 403
    assert post({"kind": "Deploy!", "title": "x"}).json()["detail"][0]["loc"] == ["body", "kind"]
    assert post({"kind": "deploy", "title": "x", "at": "tomorrow"}).status_code == 422
    assert post({"kind": "deploy", "title": "x", "colour": "red"}).status_code == 422
