"""Every token scope against every endpoint and project: who may write, who may read, and what others see."""

from __future__ import annotations

import contextlib
import types
from collections.abc import Iterator
from typing import Any

import pytest

from tests.server.conftest import Server
from tests.server.factory import make_report, ndjson

CALLERS = ["none", "ingest", "read", "other_ingest", "other_read", "admin"]


@pytest.fixture
def seeded(server: Server) -> dict[str, Any]:
    """A stored private run (acme/shop) and a stored public one (oss/lib)."""
    shop_run, _ = server.send(["passed", "failed"])
    pub_run, pub_tests = make_report()
    assert server.post_run(ndjson(pub_run, pub_tests), token="pub_ingest").status_code == 202
    server.drain()
    test_id = server.client.get(f"/api/v1/runs/{shop_run['run_id']}", headers=server.auth("admin")).json()["results"][
        0
    ]["test_id"]
    return {"shop_run": shop_run["run_id"], "pub_run": pub_run["run_id"], "shop_test": test_id}


def call(server: Server, who: str, method: str, url: str, **kw: Any) -> int:
    headers = server.auth(None if who == "none" else who)
    status: int = server.client.request(method, url, headers={**headers, **kw.pop("headers", {})}, **kw).status_code
    return status


def expect(server: Server, method: str, url: str, statuses: list[int], **kw: Any) -> None:
    got = {who: call(server, who, method, url, **kw) for who in CALLERS}
    assert got == dict(zip(CALLERS, statuses, strict=True)), url


def test_writing_runs(server: Server) -> None:
    def post(who: str, **params: str) -> int:
        run, tests = make_report()
        body = ndjson(run, tests)
        return call(
            server,
            who,
            "POST",
            "/api/v1/runs",
            content=body,
            params=params,
            headers={"Content-Type": "application/x-ndjson"},
        )

    # to the token's own project when none is named; an admin must name one
    assert [post(who) for who in CALLERS] == [401, 202, 403, 202, 403, 422]
    # naming acme/shop: only its ingest token and an admin
    assert [post(who, project="acme/shop") for who in CALLERS] == [401, 202, 403, 403, 403, 202]
    # an admin naming a project that does not exist
    assert post("admin", project="nobody/here") == 404


def test_writing_junit_and_annotations(server: Server) -> None:
    junit = b'<testsuite name="x"><testcase classname="m" name="t" time="0.1"/></testsuite>'
    statuses = [
        call(
            server,
            who,
            "POST",
            "/api/v1/junit?project=acme/shop",
            content=junit,
            headers={"Content-Type": "application/xml"},
        )
        for who in CALLERS
    ]
    assert statuses == [401, 202, 403, 403, 403, 202]
    statuses = [
        call(server, who, "POST", "/api/v1/annotations?project=acme/shop", json={"kind": "deploy", "title": who})
        for who in CALLERS
    ]
    assert statuses == [401, 201, 403, 403, 403, 201]
    #                                        none  ingest read other_i other_r admin
    expect(server, "GET", "/api/v1/annotations?project=acme/shop", [404, 404, 200, 404, 404, 200])


def test_reading_a_private_project(server: Server, seeded: dict[str, Any]) -> None:
    #                                    none  ingest read other_i other_r admin
    expect(server, "GET", "/api/v1/runs?project=acme/shop", [404, 404, 200, 404, 404, 200])
    expect(server, "GET", f"/api/v1/runs/{seeded['shop_run']}", [404, 404, 200, 404, 404, 200])
    expect(server, "GET", f"/api/v1/tests/{seeded['shop_test']}", [404, 404, 200, 404, 404, 200])
    expect(server, "GET", "/api/v1/trends?project=acme/shop", [404, 404, 200, 404, 404, 200])
    expect(server, "GET", "/api/v1/environments?project=acme/shop", [404, 404, 200, 404, 404, 200])


def test_reading_a_public_project_needs_no_token(server: Server, seeded: dict[str, Any]) -> None:
    expect(server, "GET", "/api/v1/runs?project=oss/lib", [200] * 6)
    expect(server, "GET", f"/api/v1/runs/{seeded['pub_run']}", [200] * 6)
    expect(server, "GET", "/api/v1/environments", [200] * 6)


def test_report_status_is_for_the_project_that_sent_it(server: Server, seeded: dict[str, Any]) -> None:
    expect(server, "GET", f"/api/v1/reports/{seeded['shop_run']}", [404, 200, 200, 404, 404, 200])


def test_creating_projects_needs_an_admin(server: Server) -> None:
    for who, status in zip(CALLERS, [403, 403, 403, 403, 403, 201], strict=True):
        assert call(server, who, "POST", "/api/v1/projects", json={"name": f"new/{who}", "public": True}) == status
    bad = server.client.post("/api/v1/projects", json={"name": "../etc"}, headers=server.auth("admin"))
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "name"]


def test_project_lists_show_only_what_the_caller_may_read(server: Server) -> None:
    def names(who: str) -> set[str]:
        answer = server.client.get("/api/v1/projects", headers=server.auth(None if who == "none" else who))
        return {p["name"] for p in answer.json()["projects"]}

    assert names("none") == {"oss/lib"}
    assert names("read") == {"oss/lib", "acme/shop"}
    assert names("admin") == {"oss/lib", "acme/shop", "acme/other"}


def test_unknown_revoked_and_malformed_tokens_are_401(server: Server) -> None:
    from suitescope.server.store.accounts import list_tokens, revoke_token

    assert server.client.get("/api/v1/projects", headers={"Authorization": "Bearer sst_nope"}).status_code == 401
    answer = server.client.get("/api/v1/projects", headers={"Authorization": "Basic abc"})
    assert answer.status_code == 401 and answer.headers["www-authenticate"] == "Bearer"
    with server.state.store.begin() as conn:
        read_id = next(t.id for t in list_tokens(conn) if t.scope == "read" and t.project == "acme/shop")
        assert revoke_token(conn, read_id)
    assert call(server, "read", "GET", "/api/v1/runs?project=acme/shop") == 401


def test_tokens_are_kept_hashed(server: Server) -> None:
    with server.state.store.read() as conn:
        stored = [row[0] for row in conn.exec_driver_sql("SELECT token_hash FROM tokens")]
    assert stored and not set(stored) & set(server.tokens.values())
    assert all(len(h) == 64 for h in stored)


def test_rate_limit_answers_429_with_retry_after(server_factory: Any) -> None:
    server = server_factory(rate_limit=60)  # a burst of 10, then one a second
    statuses = [call(server, "read", "GET", "/api/v1/projects") for _ in range(12)]
    assert statuses[:10] == [200] * 10 and statuses[-1] == 429
    answer = server.client.get("/api/v1/projects", headers=server.auth("read"))
    assert answer.status_code == 429 and int(answer.headers["retry-after"]) >= 1
    assert call(server, "admin", "GET", "/api/v1/projects") == 200  # another token has its own bucket


def test_ready_when_store_and_queue_answer(server: Server) -> None:
    ready = server.client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"


def test_tokens_are_checked_from_a_short_cache_that_outlives_a_store_outage() -> None:
    from sqlalchemy.exc import OperationalError

    from suitescope.server.accountcache import AccountCache
    from suitescope.server.store.accounts import Principal

    class FlakyStore:
        """A store whose reads work until `down` is set, then fail as an unreachable database does."""

        down = False
        reads = 0

        @contextlib.contextmanager
        def read(self) -> Iterator[Any]:
            self.reads += 1
            if self.down:
                raise OperationalError("SELECT 1", {}, Exception("connection refused"))
            yield FakeConnection()

    class FakeConnection:
        def execute(self, *_args: Any) -> Any:
            return self

        def first(self) -> Any:
            return types.SimpleNamespace(id=7, scope="ingest", project_id=3)

    store, cache = FlakyStore(), AccountCache(ttl_s=0.0)
    assert cache.principal(store, "sst_x") == Principal(7, "ingest", 3)  # type: ignore[arg-type]
    store.down = True
    assert cache.principal(store, "sst_x") == Principal(7, "ingest", 3)  # type: ignore[arg-type]  # stale-if-error
    with pytest.raises(OperationalError):
        cache.principal(store, "sst_never_seen")  # type: ignore[arg-type]
    assert store.reads == 3  # ttl 0: every check asks the store first
