"""A server app in process (FastAPI's TestClient runs its lifespan), with a token of each kind."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from suitescope.server.app import create_app
from suitescope.server.settings import ServerSettings
from suitescope.server.state import ServerState
from suitescope.server.store import open_store
from suitescope.server.store.accounts import create_project, create_token
from suitescope.server.worker import Worker, WorkerPolicy
from tests.backends import postgres_database, redis_queue
from tests.server.factory import gzipped, make_report, ndjson

NDJSON = {"Content-Type": "application/x-ndjson"}


@dataclass
class Server:
    client: TestClient
    state: ServerState
    tokens: dict[str, str]  # admin, ingest, read (acme/shop); other_ingest, other_read (acme/other); pub_ingest

    def auth(self, name: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[name]}"} if name else {}

    def post_run(self, body: bytes, token: str | None = "ingest", gzip: bool = False, **params: Any) -> Any:
        headers = {**NDJSON, **self.auth(token)}
        if gzip:
            body, headers["Content-Encoding"] = gzipped(body), "gzip"
        return self.client.post("/api/v1/runs", content=body, headers=headers, params=params)

    def send(self, statuses: list[str] | None = None, **kw: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Post a made-up run with the ingest token and check it was accepted."""
        run, tests = make_report(statuses, **kw)
        answer = self.post_run(ndjson(run, tests))
        assert answer.status_code == 202, answer.text
        return run, tests

    def drain(self) -> int:
        policy = WorkerPolicy(backoff_s=0, max_attempts=2, idle_s=0)
        return Worker(self.state.queue, self.state.store, self.state.metrics, policy).drain()


def make_settings(tmp_path: Path, **kw: Any) -> ServerSettings:
    return ServerSettings.in_dir(tmp_path, **{"run_worker": False, "rate_limit": 0, **kw})


def seed_tokens(settings: ServerSettings) -> dict[str, str]:
    store = open_store(settings.database)
    store.migrate()
    with store.begin() as conn:
        shop = create_project(conn, "acme/shop").id
        other = create_project(conn, "acme/other").id
        public = create_project(conn, "oss/lib", public=True).id
        tokens = {
            "admin": create_token(conn, "admin", None),
            "ingest": create_token(conn, "ingest", shop),
            "read": create_token(conn, "read", shop),
            "other_ingest": create_token(conn, "ingest", other),
            "other_read": create_token(conn, "read", other),
            "pub_ingest": create_token(conn, "ingest", public),
        }
    store.close()
    return tokens


BACKENDS = ["embedded", "scale"]  # SQLite store and queue; PostgreSQL store and Redis Streams queue


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator[Any]:
    """make(backend="embedded", **settings) -> a Server on that backend (`scale`: a new PostgreSQL database
    and a new Redis key prefix, both gone afterwards)."""
    clients: list[TestClient] = []
    with ExitStack() as stack:

        def make(backend: str = "embedded", **kw: Any) -> Server:
            if backend == "scale":
                kw.setdefault("database", stack.enter_context(postgres_database()))
                kw.setdefault("queue", stack.enter_context(redis_queue()))
            settings = make_settings(tmp_path, **kw)
            tokens = seed_tokens(settings)
            app = create_app(settings)
            client = TestClient(app)
            client.__enter__()
            clients.append(client)
            return Server(client, app.state.suitescope, tokens)

        yield make
        for client in clients:
            client.__exit__(None, None, None)


@pytest.fixture(params=BACKENDS)
def server(request: pytest.FixtureRequest, server_factory: Any) -> Server:
    """The server on each backend in turn: every test that uses it runs on both."""
    made: Server = server_factory(request.param)
    return made


@pytest.fixture
def embedded_server(server_factory: Any) -> Server:
    """For tests of the embedded backend's own files (a locked SQLite store, the queue's table)."""
    made: Server = server_factory()
    return made


__all__ = ["NDJSON", "Server", "dataclasses"]
