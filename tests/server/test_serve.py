"""`suitescope serve` as a real process on 127.0.0.1: ingest over HTTP, JSON logs, and kill -9 between the 202
and the worker (the report is stored after the restart, exactly once)."""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from suitescope.cli.commands import cli
from suitescope.server.store.migrate import head
from tests.server.factory import gzipped, make_report, ndjson
from tests.server.serving import ServeProcess

pytestmark = pytest.mark.slow


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path


@pytest.fixture
def started(data_dir: Path) -> Iterator[list[ServeProcess]]:
    running: list[ServeProcess] = []
    yield running
    for proc in running:
        proc.stop(signal.SIGKILL)


def make_token(data_dir: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["token", "create", "--data-dir", str(data_dir), *args])
    assert result.exit_code == 0, result.output
    return result.stdout.splitlines()[0]


def post(url: str, token: str, body: bytes) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/x-ndjson", "Content-Encoding": "gzip"}
    return httpx.post(f"{url}/api/v1/runs", content=gzipped(body), headers=headers, timeout=30)


def wait_stored(url: str, token: str, run_ids: list[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    pending = set(run_ids)
    while pending and time.monotonic() < deadline:
        for run_id in list(pending):
            state = httpx.get(f"{url}/api/v1/reports/{run_id}", headers={"Authorization": f"Bearer {token}"}).json()
            if state["state"] == "stored":
                pending.discard(run_id)
        time.sleep(0.1)
    assert not pending, f"not stored in {timeout} s: {pending}"


def result_counts(url: str, token: str, run_ids: list[str]) -> list[int]:
    headers = {"Authorization": f"Bearer {token}"}
    return [httpx.get(f"{url}/api/v1/runs/{run_id}", headers=headers).json()["results_total"] for run_id in run_ids]


def test_serve_ingests_over_http_and_logs_json(data_dir: Path, started: list[ServeProcess]) -> None:
    ingest = make_token(data_dir, "--project", "acme/shop", "--scope", "ingest")
    read = make_token(data_dir, "--project", "acme/shop", "--scope", "read")
    server = ServeProcess(data_dir)
    started.append(server)
    run, tests = make_report(["passed", "failed", "skipped"])
    answer = post(server.url, ingest, ndjson(run, tests))
    assert answer.status_code == 202, answer.text
    assert answer.json()["status_url"] == f"{server.url}/api/v1/reports/{run['run_id']}"
    wait_stored(server.url, ingest, [run["run_id"]])
    assert result_counts(server.url, read, [run["run_id"]]) == [3]
    junit = b'<testsuite name="pytest" timestamp="2026-11-20T10:00:00"><testcase classname="m" name="t"/></testsuite>'
    answer = httpx.post(
        f"{server.url}/api/v1/junit",
        content=junit,
        headers={"Authorization": f"Bearer {ingest}", "Content-Type": "application/xml"},
    )
    assert answer.status_code == 202, answer.text
    wait_stored(server.url, ingest, [answer.json()["run_id"]])
    assert result_counts(server.url, read, [answer.json()["run_id"]]) == [1]
    assert httpx.get(f"{server.url}/docs").status_code == 200
    assert "/api/v1/runs" in httpx.get(f"{server.url}/openapi.json").json()["paths"]
    server.stop()  # SIGTERM: a graceful stop (uvicorn re-raises the signal once it has shut down)
    assert server.proc.returncode in (0, -signal.SIGTERM)
    assert "Application shutdown complete." in server.output()
    lines = [json.loads(line) for line in server.output().splitlines() if line.startswith("{")]
    assert any("stored" in line["msg"] and line["logger"] == "suitescope.worker" for line in lines)
    assert any("POST /api/v1/runs" in line["msg"] for line in lines)  # uvicorn's access log, as JSON too
    assert all({"time", "level", "logger", "msg"} <= set(line) for line in lines)


def test_kill_9_after_the_202_loses_nothing_and_stores_once(data_dir: Path, started: list[ServeProcess]) -> None:
    token = make_token(data_dir, "--project", "acme/shop", "--scope", "ingest")
    read = make_token(data_dir, "--project", "acme/shop", "--scope", "read")
    api_only = ServeProcess(data_dir, "--no-worker")
    started.append(api_only)
    reports = [make_report(["passed"] * 50) for _ in range(3)]
    for run, tests in reports:
        assert post(api_only.url, token, ndjson(run, tests)).status_code == 202
    api_only.stop(signal.SIGKILL)  # between the 202s and any processing
    restarted = ServeProcess(data_dir)
    started.append(restarted)
    run_ids = [run["run_id"] for run, _ in reports]
    wait_stored(restarted.url, token, run_ids)
    assert result_counts(restarted.url, read, run_ids) == [50, 50, 50]


def test_kill_9_while_the_worker_stores_then_restart_stores_each_run_once(
    data_dir: Path, started: list[ServeProcess]
) -> None:
    token = make_token(data_dir, "--project", "acme/shop", "--scope", "ingest")
    read = make_token(data_dir, "--project", "acme/shop", "--scope", "read")
    server = ServeProcess(data_dir)
    started.append(server)
    reports = [make_report(["passed"] * 3000) for _ in range(6)]
    for run, tests in reports:
        assert post(server.url, token, ndjson(run, tests)).status_code == 202
    server.stop(signal.SIGKILL)  # the worker is most likely inside a transaction now
    restarted = ServeProcess(data_dir)
    started.append(restarted)
    run_ids = [run["run_id"] for run, _ in reports]
    wait_stored(restarted.url, token, run_ids, timeout=120)
    assert result_counts(restarted.url, read, run_ids) == [3000] * 6
    health: dict[str, Any] = httpx.get(f"{restarted.url}/healthz").json()
    assert health["queue"] == {}


def test_cli_tokens_projects_queue_and_migrate(data_dir: Path) -> None:
    def invoke(*args: str, code: int = 0) -> str:
        """`suitescope <group> [<command>] --data-dir DIR <args>`, checking the exit status."""
        split = 2 if args[0] in ("token", "project", "queue") else 1
        argv = [*args[:split], "--data-dir", str(data_dir), *args[split:]]
        result = CliRunner().invoke(cli, argv, env={"COLUMNS": "200"})
        assert result.exit_code == code, result.output
        return result.output

    assert f"schema empty -> {head()}" in invoke("migrate")
    assert f"schema {head()} -> {head()}" in invoke("migrate")  # again: nothing to do, and says so
    token = make_token(data_dir, "--scope", "admin")
    assert token.startswith("sst_") and len(token) > 40
    listed = invoke("token", "ls")
    assert "admin" in listed and token[:12] in listed and token not in listed
    assert "token 1 revoked" in invoke("token", "revoke", "1")
    assert "no active token with id 1" in invoke("token", "revoke", "1", code=1)
    assert "--project is required" in invoke("token", "create", "--scope", "ingest", code=2)
    assert "project oss/lib: public" in invoke("project", "create", "oss/lib", "--public")
    assert "the queue is empty" in invoke("queue", "ls")
    assert "0 jobs re-queued" in invoke("queue", "retry")
    assert "0 jobs deleted" in invoke("queue", "purge", "--yes")


def test_serve_refuses_a_store_written_by_a_newer_version(data_dir: Path) -> None:
    import sqlite3

    runner = CliRunner()
    assert runner.invoke(cli, ["migrate", "--data-dir", str(data_dir)]).exit_code == 0
    with sqlite3.connect(data_dir / "suitescope.db") as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
    result = runner.invoke(cli, ["migrate", "--data-dir", str(data_dir)])
    assert result.exit_code == 1 and "newer version" in result.output and "upgrade suitescope" in result.output


def test_a_token_for_a_public_project_leaves_it_public(data_dir: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["project", "create", "--data-dir", str(data_dir), "oss/lib", "--public"]).exit_code == 0
    make_token(data_dir, "--project", "oss/lib", "--scope", "ingest")
    listed = runner.invoke(cli, ["project", "create", "--data-dir", str(data_dir), "oss/lib", "--public"]).output
    assert "public" in listed
    from suitescope.server.store import open_store
    from suitescope.server.store.accounts import find_project

    store = open_store(f"sqlite:///{data_dir / 'suitescope.db'}")
    with store.read() as conn:
        project = find_project(conn, "oss/lib")
        assert project is not None and project.public
    store.close()


def test_maintain_once_folds_and_applies_retention_for_a_split_layout(data_dir: Path) -> None:
    from datetime import datetime, timedelta, timezone

    from suitescope.server.body import Limits
    from suitescope.server.reports import read_report
    from suitescope.server.store import open_store
    from suitescope.server.store.accounts import create_project
    from suitescope.server.store.writes import Tags

    store = open_store(f"sqlite:///{data_dir / 'suitescope.db'}")
    store.migrate()
    with store.begin() as conn:
        project = create_project(conn, "acme/shop")
    old = datetime.now(timezone.utc) - timedelta(days=120)
    run, tests = make_report(["passed", "failed", "passed"], started=old)
    store.write_report(
        read_report(ndjson(run, tests), "application/x-ndjson", Limits()), Tags(project.id, project.name)
    )
    store.close()
    argv = ["maintain", "--data-dir", str(data_dir), "--once", "--retention-days", "90"]
    result = CliRunner().invoke(cli, argv)
    assert result.exit_code == 0, result.output
    assert "removed 2 results" in result.output  # the passing ones; the failure is kept for 365 days
    again = CliRunner().invoke(cli, argv)
    assert "removed 0 results" in again.output
