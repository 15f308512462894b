"""The queue and the worker: retries, dead letters, a store that is down, leases of a dead worker."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from typing import Any

from suitescope.server.queue import NewJob
from suitescope.server.store import Store
from suitescope.server.store.engine import make_engine
from suitescope.server.worker import Worker, WorkerPolicy
from tests.server.conftest import Server
from tests.server.factory import ndjson


def stored_runs(server: Server) -> int:
    with server.state.store.read() as conn:
        count: int = conn.exec_driver_sql("SELECT count(*) FROM runs").scalar_one()
    return count


def test_while_the_store_is_down_jobs_wait_and_drain_when_it_returns(embedded_server: Server) -> None:
    server = embedded_server
    run, _tests = server.send()
    path = server.state.settings.database.removeprefix("sqlite:///")
    locker = sqlite3.connect(path, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")  # the store is unusable: every write gets "database is locked"
    impatient = Store(make_engine(server.state.settings.database, busy_timeout_ms=50))
    worker = Worker(server.state.queue, impatient, server.state.metrics, WorkerPolicy(backoff_s=0, idle_s=0))
    for _ in range(3):
        assert worker.run_once() == 0  # put back: the store's fault, not the job's
    job = server.state.queue.status(run["run_id"])
    assert job is not None and job.state == "ready" and job.attempts == 0  # no attempt used up
    assert server.state.metrics.value("suitescope_store_unavailable_total") == 3
    locker.execute("ROLLBACK")
    assert worker.drain() == 1
    assert stored_runs(server) == 1 and server.state.queue.depth().by_state == {}


def test_a_job_that_keeps_failing_is_dead_lettered_then_retried(server: Server) -> None:
    queue = server.state.queue
    meta = {
        "tags": {"project_id": 1, "project": "acme/shop"},
        "content_type": "application/x-ndjson",
        "encoding": "gzip",
    }
    queue.put(NewJob("broken-run", 1, meta, b"not gzip at all"))
    server.drain()  # policy of the fixture: 2 attempts, no backoff
    (dead,) = queue.jobs("dead")
    assert dead.run_id == "broken-run" and dead.attempts == 2 and "gzip" in (dead.last_error or "")
    status = server.client.get("/api/v1/reports/broken-run", headers=server.auth("ingest")).json()
    assert status["state"] == "dead" and status["error"]
    assert queue.retry() == 1
    assert queue.jobs("ready")[0].attempts == 0
    server.drain()
    assert queue.purge() == 1 and queue.depth().by_state == {}


def test_leases_of_a_killed_worker_on_this_host_are_reclaimed_at_once(server: Server) -> None:
    server.send()
    queue = server.state.queue
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_owner = f"{__import__('socket').gethostname()}:{child.stdout.strip()}:abcd"  # a pid that has exited
    assert len(queue.lease(dead_owner, visibility_s=3600)) == 1
    assert queue.lease("someone-else", 3600) == []  # leased for an hour
    assert queue.reclaim() == 1
    assert server.drain() == 1
    assert stored_runs(server) == 1


def test_an_expired_lease_is_leased_again(server: Server) -> None:
    server.send()
    queue = server.state.queue
    (first,) = queue.lease("host:1:a", visibility_s=-1)  # already expired
    (second,) = queue.lease("host:2:b", visibility_s=0)  # Redis: idle for longer than 0 s, so taken over
    assert first.id == second.id and second.attempts == 2


def test_a_batch_lease_stops_at_its_size_in_bytes(server: Server) -> None:
    size = max(len(ndjson(*server.send())) for _ in range(4))  # the bodies as queued
    queue = server.state.queue
    assert len(queue.lease("host:1:a", 60, limit=10, max_bytes=2 * size + 1)) == 2
    assert len(queue.lease("host:1:a", 60, limit=10, max_bytes=1)) == 1  # the first always, however large
    assert len(queue.lease("host:1:a", 60, limit=10)) == 1  # the last one left
    queue.ack([job.id for job in queue.jobs()])
    assert queue.depth().by_state == {}


def test_metrics_and_health(server: Server) -> None:
    server.send()
    text = server.client.get("/metrics").text
    assert 'suitescope_reports_accepted_total{source="suitescope"} 1' in text
    assert 'suitescope_queue_jobs{state="ready"} 1' in text
    server.client.get("/api/v1/runs", params={"project": "nope"})
    assert 'suitescope_http_errors_total{status="404"} 1' in server.client.get("/metrics").text
    health: dict[str, Any] = server.client.get("/healthz").json()
    assert health["status"] == "ok" and health["queue"] == {"ready": 1}


def test_one_bad_job_in_a_batch_does_not_hold_back_the_others(embedded_server: Server) -> None:
    server = embedded_server
    good, _ = server.send()
    bad_run, _ = server.send()
    queue = server.state.queue
    job = queue.status(bad_run["run_id"])
    assert job is not None
    with sqlite3.connect(server.state.settings.queue.removeprefix("sqlite:///")) as conn:  # a project that is gone
        conn.execute(
            "UPDATE jobs SET meta = replace(meta, '\"project_id\": 1', '\"project_id\": 999') WHERE id = ?", (job.id,)
        )
    worker = Worker(queue, server.state.store, server.state.metrics, WorkerPolicy(backoff_s=0, max_attempts=1))
    assert worker.run_once() == 2  # one batch of both
    assert stored_runs(server) == 1
    (dead,) = queue.jobs("dead")
    assert dead.run_id == bad_run["run_id"] and "FOREIGN KEY" in (dead.last_error or "")
    assert (
        server.client.get(f"/api/v1/reports/{good['run_id']}", headers=server.auth("ingest")).json()["state"]
        == "stored"
    )
