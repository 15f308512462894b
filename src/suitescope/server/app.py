"""The ASGI application: `create_app(settings)` wires store, queue, worker and routes.

In the embedded mode (`suitescope serve`) the worker and the retention sweep run as threads of the API process,
started and stopped with the app's lifespan; `--no-worker` leaves them to `suitescope worker` processes.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.responses import PlainTextResponse
from fastapi.staticfiles import StaticFiles

from suitescope import __version__
from suitescope.server import errors, findings, hooks, ingest, maintenance, reads
from suitescope.server.metrics import Metrics, exposition
from suitescope.server.queue import open_queue
from suitescope.server.ratelimit import RateLimiter
from suitescope.server.responses import Json
from suitescope.server.settings import ServerSettings
from suitescope.server.state import ServerState
from suitescope.server.store import open_store
from suitescope.server.web import views
from suitescope.server.worker import Worker


def create_app(settings: ServerSettings) -> FastAPI:
    state = ServerState(
        settings, open_store(settings.database), open_queue(settings.queue), Metrics(), RateLimiter(settings.rate_limit)
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        state.store.check()
        stop = threading.Event()
        threads = _background(state, stop) if settings.run_worker else []
        try:
            yield
        finally:
            stop.set()
            for thread in threads:
                thread.join()
            state.queue.close()
            state.store.close()

    app = FastAPI(
        title="suitescope",
        version=__version__,
        description="Telemetry for test suites: ingest runs, read their history.",
        lifespan=lifespan,
        default_response_class=Json,
    )
    app.state.suitescope = state
    errors.install(app)
    app.include_router(ingest.router)
    app.include_router(reads.router)
    app.include_router(hooks.router)
    app.include_router(findings.router)
    app.include_router(views.router)
    app.mount("/static", StaticFiles(directory=Path(views.__file__).parent / "static"), name="static")
    app.add_api_route("/healthz", _health(state), methods=["GET"], tags=["operations"], summary="Liveness and depth")
    app.add_api_route(
        "/readyz", _ready(state), methods=["GET"], tags=["operations"], summary="Ready: store and queue answer"
    )
    app.add_api_route(
        "/metrics", _metrics(state), methods=["GET"], tags=["operations"], response_class=PlainTextResponse
    )
    return app


def _background(state: ServerState, stop: threading.Event) -> list[threading.Thread]:
    worker = Worker(state.queue, state.store, state.metrics, state.settings.worker_policy)
    threads = [
        threading.Thread(target=worker.run, args=(stop,), name="suitescope-worker", daemon=True),
        threading.Thread(
            target=maintenance.run,
            args=(state.store, state.settings.retention, state.settings.retention_every_s, stop),
            name="suitescope-retention",
            daemon=True,
        ),
    ]
    for thread in threads:
        thread.start()
    return threads


def _health(state: ServerState) -> Any:
    def healthz() -> Json:
        """200 while the store answers, 503 when it does not; the queue's depth either way."""
        depth = state.queue.depth()
        body: dict[str, Any] = {"status": "ok", "version": __version__, "queue": depth.by_state}
        try:
            with state.store.read() as conn:
                conn.exec_driver_sql("SELECT 1")
        except Exception as exc:
            body.update(status="store unavailable", error=str(exc).splitlines()[0])
            return Json(body, status_code=503)
        return Json(body)

    return healthz


def _ready(state: ServerState) -> Any:
    def readyz() -> Json:
        """200 when this process can take reports (the queue answers) and serve reads (the store answers, at
        this version's schema); 503 with what is missing otherwise: a load balancer sends it no traffic."""
        problems = {}
        try:
            state.queue.depth()
        except Exception as exc:
            problems["queue"] = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        try:
            state.store.check()
        except Exception as exc:
            problems["store"] = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if problems:
            return Json({"status": "not ready", **problems}, status_code=503)
        return Json({"status": "ready", "version": __version__})

    return readyz


def _metrics(state: ServerState) -> Any:
    def metrics() -> PlainTextResponse:
        """Prometheus text format: reports and results ingested, failures, queue depth by state."""
        depth = state.queue.depth()
        gauges = {
            "suitescope_queue_jobs": (
                "Jobs in the queue, by state.",
                {f"state={name}": float(getattr(depth, name)) for name in ("ready", "leased", "dead")},
            )
        }
        return PlainTextResponse(exposition(state.metrics, gauges), media_type="text/plain; version=0.0.4")

    return metrics
