"""The scale-out layout under faults, with real servers on 127.0.0.1: `serve --no-worker` API processes,
`suitescope worker` processes, PostgreSQL and Redis. Each test checks the one promise that matters: every
report the API accepted (202) is stored, once.

The servers a test stops or kills are its own (PrivatePostgres, PrivateRedis); the others use a new database
of the machine's PostgreSQL and a new key prefix of its Redis."""

from __future__ import annotations

import gzip
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.backends import postgres_database, redis_queue
from tests.server.factory import make_report, ndjson
from tests.server.faults import PrivatePostgres, PrivateRedis, cli, wait_until
from tests.server.serving import ServeProcess

pytestmark = pytest.mark.slow
LOAD_S = float(os.environ.get("SUITESCOPE_LOAD_S", "120"))  # the sustained-load test's duration


class Layout:
    """A store and a queue, a project with an ingest token, and the processes started on them."""

    def __init__(self, data_dir: Path, database: str, queue: str) -> None:
        self.data_dir, self.database, self.queue = data_dir, database, queue
        self.env = {"SUITESCOPE_DATABASE": database, "SUITESCOPE_QUEUE": queue}
        cli("migrate", "--data-dir", str(data_dir), env=self.env)
        self.token = cli("token", "create", "--project", "acme/shop", "--scope", "ingest", env=self.env)
        self.apis: list[ServeProcess] = []
        self.workers: list[subprocess.Popen[bytes]] = []

    def api(self) -> ServeProcess:
        args = ("--no-worker", "--rate-limit", "0", "--database", self.database, "--queue", self.queue)
        self.apis.append(ServeProcess(self.data_dir, *args))
        return self.apis[-1]

    def worker(self, *args: str) -> subprocess.Popen[bytes]:
        command = [sys.executable, "-m", "suitescope.cli.main", "worker", *args]
        with (self.data_dir / f"worker-{len(self.workers)}.log").open("w") as log:  # the child keeps its own
            self.workers.append(subprocess.Popen(command, env={**os.environ, **self.env}, stdout=log, stderr=log))
        return self.workers[-1]

    def post(self, client: httpx.Client, api: ServeProcess, tests: int = 50) -> str | None:
        """Send one new run; its run_id if the API accepted it (202), None if it refused or did not answer."""
        run, records = make_report(["passed"] * tests)
        headers = {
            "Authorization": f"Bearer {self.token}",
            "Content-Type": "application/x-ndjson",
            "Content-Encoding": "gzip",
        }
        try:
            answer = client.post(f"{api.url}/api/v1/runs", content=gzip.compress(ndjson(run, records)), headers=headers)
        except httpx.HTTPError:
            return None
        return str(run["run_id"]) if answer.status_code == 202 else None

    def stored(self) -> tuple[int, int]:
        """(runs, results) in the store."""
        url = self.database.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(url) as conn:
            runs = conn.execute("SELECT count(*) FROM runs").fetchone()
            results = conn.execute("SELECT count(*) FROM results").fetchone()
        return (int(runs[0]) if runs else 0, int(results[0]) if results else 0)

    def stored_ids(self) -> list[str]:
        url = self.database.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(url) as conn:
            return [row[0] for row in conn.execute("SELECT run_id FROM runs")]

    def stop(self) -> None:
        for proc in self.workers:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.workers:
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
        for api in self.apis:
            api.stop()


@pytest.fixture
def layout(tmp_path: Path) -> Iterator[Layout]:
    with postgres_database() as database, redis_queue() as queue:
        made = Layout(tmp_path, database, queue)
        yield made
        made.stop()


def test_kill_9_a_worker_mid_batch_its_jobs_are_reclaimed_and_every_run_stored_once(layout: Layout) -> None:
    api = layout.api()
    with httpx.Client(timeout=30) as client:
        accepted = [layout.post(client, api, tests=2000) for _ in range(40)]
    assert None not in accepted
    first = layout.worker()
    wait_until(lambda: layout.stored()[0] > 0, 120, "a first run stored")
    assert layout.stored()[0] < 40, "the worker finished before it could be killed: send larger runs"
    first.send_signal(signal.SIGKILL)  # in the middle of a batch: its leases stay with a dead consumer
    first.wait()
    layout.worker()  # reclaims the dead worker's jobs at once (same host, its pid is gone)
    wait_until(lambda: layout.stored()[0] == 40, 180, "every run stored")
    assert sorted(layout.stored_ids()) == sorted(accepted) and layout.stored() == (40, 40 * 2000)


def test_postgresql_down_for_30_s_the_backlog_waits_in_redis_and_drains(tmp_path: Path) -> None:
    pg = PrivatePostgres()
    pg.start()
    try:
        with redis_queue() as queue:
            layout = Layout(tmp_path, pg.url, queue)
            try:
                _ingest_through_an_outage(layout, pg)
            finally:
                layout.stop()
    finally:
        pg.remove()


def _ingest_through_an_outage(layout: Layout, pg: PrivatePostgres) -> None:
    api = layout.api()
    layout.worker()
    accepted: list[str] = []
    refused = 0
    backlog = 0
    with httpx.Client(timeout=30) as client:
        for _ in range(5):  # before: stored as they come
            accepted.append(layout.post(client, api) or "")
        wait_until(lambda: pg.count("SELECT count(*) FROM runs") == 5, 60, "the first runs stored")
        pg.stop()
        began = time.monotonic()
        while time.monotonic() - began < 30:  # 30 s without PostgreSQL: the API keeps accepting into Redis
            run_id = layout.post(client, api)
            if run_id is None:
                refused += 1
            else:
                accepted.append(run_id)
            backlog = max(backlog, client.get(f"{api.url}/healthz").json()["queue"].get("ready", 0))
            time.sleep(0.5)
        not_ready = client.get(f"{api.url}/readyz")
        pg.start()
    assert refused == 0 and "" not in accepted
    assert not_ready.status_code == 503 and "store" in not_ready.json()
    assert backlog >= 20, f"the backlog should have grown in Redis, it peaked at {backlog}"
    wait_until(lambda: pg.count("SELECT count(*) FROM runs") == len(accepted), 180, "the backlog drained")
    assert sorted(layout.stored_ids()) == sorted(accepted)


def test_a_redis_killed_and_restarted_with_aof_keeps_every_accepted_report(tmp_path: Path) -> None:
    redis_server = PrivateRedis()
    redis_server.start()
    try:
        with postgres_database() as database:
            layout = Layout(tmp_path, database, redis_server.url)
            try:
                api = layout.api()
                with httpx.Client(timeout=30) as client:
                    accepted = [layout.post(client, api) for _ in range(25)]
                assert None not in accepted
                redis_server.kill()  # kill -9 right after the 202s: AOF with fsync at every write has them
                redis_server.start()
                layout.worker()
                wait_until(lambda: layout.stored()[0] == 25, 120, "every accepted report stored")
                assert sorted(layout.stored_ids()) == sorted(accepted)
            finally:
                layout.stop()
    finally:
        redis_server.remove()


def test_two_apis_and_three_workers_under_sustained_load_store_every_accepted_report_once(layout: Layout) -> None:
    apis = [layout.api(), layout.api()]
    layout.worker("--concurrency", "3")
    accepted: list[str] = []
    refused: list[int] = []
    lock = threading.Lock()
    stop = threading.Event()

    def client_loop(number: int) -> None:
        with httpx.Client(timeout=60) as client:
            while not stop.is_set():
                run_id = layout.post(client, apis[number % 2], tests=200)
                with lock:
                    (accepted.append(run_id) if run_id is not None else refused.append(number))
                number += 1

    clients = [threading.Thread(target=client_loop, args=(n,)) for n in range(6)]
    for thread in clients:
        thread.start()
    time.sleep(LOAD_S)
    stop.set()
    for thread in clients:
        thread.join()
    assert refused == [], f"{len(refused)} reports refused under load"
    wait_until(lambda: layout.stored()[0] >= len(accepted), 300, "every accepted report stored")
    ids = layout.stored_ids()
    assert len(ids) == len(set(ids)) == len(accepted) and set(ids) == set(accepted)  # all, and once each
    assert layout.stored() == (len(accepted), 200 * len(accepted))
    print(f"\n{len(accepted)} reports in {LOAD_S:.0f} s through 2 APIs and 3 workers, all stored once")
