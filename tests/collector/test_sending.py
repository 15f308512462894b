"""Sending a run: against servers on 127.0.0.1 that fail in every way a network can, the suite's outcomes and
exit status stay as they were, the run ends within the deadline + 1 s, and the report is spooled, then
delivered exactly once by `suitescope upload`. And the happy path, consent, dry run and preview."""

from __future__ import annotations

import gzip
import http.server
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from suitescope.sinks.spool import Spool

pytestmark = pytest.mark.slow
DEADLINE = 1.5
SUITE = """
def test_ok():
    assert 1

def test_bad():
    assert 0, "password=hunter2 sent to jane@example.com"
"""


class Handler(http.server.BaseHTTPRequestHandler):
    behaviour: Callable[[Any], None]

    def do_POST(self) -> None:
        type(self).behaviour(self)

    def log_message(self, *args: object) -> None:
        pass


def answer(status: int, headers: dict[str, str] | None = None) -> Callable[[Any], None]:
    def handle(h: Any) -> None:
        h.rfile.read(int(h.headers.get("Content-Length", 0)))
        h.send_response(status)
        for key, value in (headers or {}).items():
            h.send_header(key, value)
        h.send_header("Content-Length", "0")
        h.end_headers()

    return handle


def never_answers(h: Any) -> None:
    time.sleep(30)


def garbage(h: Any) -> None:
    h.rfile.read(int(h.headers.get("Content-Length", 0)))
    h.wfile.write(b"HELLO I AM NOT HTTP\r\n\r\n")
    h.close_connection = True


def closes_mid_body(h: Any) -> None:
    h.rfile.read(10)
    h.connection.shutdown(socket.SHUT_RDWR)
    h.close_connection = True


def redirect_loop(h: Any) -> None:
    answer(302, {"Location": "/api/v1/runs"})(h)


@pytest.fixture
def fault_server() -> Iterator[Callable[[Callable[[Any], None]], str]]:
    servers: list[http.server.ThreadingHTTPServer] = []

    def start(behaviour: Callable[[Any], None]) -> str:
        handler = type("FaultHandler", (Handler,), {"behaviour": staticmethod(behaviour)})
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def refused_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def run_suite(root: Path, env: dict[str, str], *args: str) -> tuple[subprocess.CompletedProcess[str], float]:
    began = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:randomly", "-p", "no:cacheprovider", *args],
        cwd=root,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    return result, time.monotonic() - began


@pytest.fixture
def suite(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    root = tmp_path / "project"
    root.mkdir()
    (root / "test_sent.py").write_text(SUITE)
    (root / "pytest.ini").write_text(f"[pytest]\nsuitescope_send_deadline = {DEADLINE}\n")
    env = {
        "SUITESCOPE_TOKEN": "sst_test-token-0123456789abcdefghij",
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
    }
    return root, env


FAULTS = {
    "connection refused": lambda start: refused_url(),
    "accepts, never answers": lambda start: start(never_answers),
    "500": lambda start: start(answer(500)),
    "429 with Retry-After": lambda start: start(answer(429, {"Retry-After": "30"})),
    "garbage": lambda start: start(garbage),
    "redirect loop": lambda start: start(redirect_loop),
    "closed mid-body": lambda start: start(closes_mid_body),
    "unknown host": lambda start: "http://no-such-host.invalid",
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_failing_server_never_changes_the_suite_and_the_run_is_spooled(
    fault: str, suite: tuple[Path, dict[str, str]], fault_server: Any
) -> None:
    root, env = suite
    plain, plain_s = run_suite(root, env)
    sent, sent_s = run_suite(root, env, "--suitescope", f"--suitescope-url={FAULTS[fault](fault_server)}")
    assert sent.returncode == plain.returncode == 1
    assert "1 failed, 1 passed" in sent.stdout and "1 failed, 1 passed" in plain.stdout
    assert sent_s - plain_s < DEADLINE + 1.0, (fault, sent_s, plain_s)
    line = next(line for line in sent.stdout.splitlines() if line.startswith("suitescope: run not sent"))
    assert "spooled, `suitescope upload` to retry" in line, line
    (spooled,) = Spool(Path(env["XDG_CACHE_HOME"]) / "suitescope" / "spool").pending()
    payload = gzip.decompress(spooled.read_bytes()).decode()
    assert "hunter2" not in payload and "jane@example.com" not in payload  # the spool holds the payload


def test_a_full_disk_for_the_spool_is_one_line_too(suite: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    root, env = suite
    tiny = tmp_path / "tiny"
    tiny.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8k", "tmpfs", str(tiny)], check=True)  # root on CI
    try:
        (tiny / "filler").write_bytes(b"x" * 8192)
        env = {**env, "XDG_CACHE_HOME": str(tiny)}
        sent, _ = run_suite(root, env, "--suitescope", f"--suitescope-url={refused_url()}")
    finally:
        subprocess.run(["umount", str(tiny)], check=True)
    assert sent.returncode == 1 and "1 failed, 1 passed" in sent.stdout
    assert "run not sent (connection refused), and not spooled either" in sent.stdout


def test_nothing_is_sent_without_consent(suite: tuple[Path, dict[str, str]], fault_server: Any) -> None:
    root, env = suite
    hits: list[str] = []
    url = fault_server(lambda h: (hits.append(h.path), answer(202)(h)))
    for extra_env, args in [
        ({}, ["--suitescope-url", url]),  # recording is off
        ({"DO_NOT_TRACK": "1"}, ["--suitescope", "--suitescope-url", url]),
        ({"SUITESCOPE_SEND": "0"}, ["--suitescope", "--suitescope-url", url]),
        ({"SUITESCOPE_TOKEN": ""}, ["--suitescope", "--suitescope-url", url]),  # no token
        ({}, ["--suitescope"]),  # no URL
    ]:
        result, _ = run_suite(root, {**env, **extra_env}, *args)
        assert result.returncode == 1 and "suitescope: run" not in result.stdout
    assert hits == []
    result, _ = run_suite(root, env, "--suitescope", "--suitescope-url", url)
    assert hits == ["/api/v1/runs"] and "suitescope: run sent to" in result.stdout


def test_dry_run_writes_the_payload_and_preview_prints_the_same(suite: tuple[Path, dict[str, str]]) -> None:
    root, env = suite
    result, _ = run_suite(root, env, "--suitescope", "--suitescope-dry-run", "--suitescope-project=acme/shop")
    assert "suitescope: dry run, nothing sent" in result.stdout
    (payload_file,) = (root / ".telemetry").glob("*.payload.ndjson")
    payload = payload_file.read_text()
    assert "hunter2" not in payload and "jane@example.com" not in payload
    run = json.loads(payload.splitlines()[-1])
    assert (run["vendor"], run["project"]) == ("acme", "shop") and run["consent"]["anonymity"] == "named"
    preview = subprocess.run(
        [sys.executable, "-m", "suitescope.cli.main", "preview", "--anonymity", "named"],
        cwd=root,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    assert preview.stdout == payload
    report = subprocess.run(
        [sys.executable, "-m", "suitescope.cli.main", "report", "--json"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    )
    assert len(json.loads(report.stdout)["runs"]) == 1  # the payload file is not taken for a second run


def test_a_bad_send_option_is_a_usage_error(suite: tuple[Path, dict[str, str]]) -> None:
    root, env = suite
    result, _ = run_suite(root, env, "--suitescope", "--suitescope-url=ftp://x")
    assert result.returncode == 4 and "is not an http(s) URL" in result.stderr


def test_a_token_in_a_config_file_is_warned_about(suite: tuple[Path, dict[str, str]], fault_server: Any) -> None:
    root, env = suite
    (root / "pytest.ini").write_text(
        f"[pytest]\nsuitescope_send_deadline = {DEADLINE}\n# suitescope_token = sst_abcdefghijklmnopqrstuvwxyz\n"
    )
    result, _ = run_suite(root, env, "--suitescope", f"--suitescope-url={fault_server(answer(202))}")
    assert "pytest.ini seems to hold a token" in result.stdout


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[tuple[str, str, str]]:
    """`suitescope serve` on 127.0.0.1: (url, ingest token, read token) of project acme/shop."""
    from tests.server.test_serve import ServeProcess, make_token

    data = tmp_path / "server"
    ingest = make_token(data, "--project", "acme/shop", "--scope", "ingest")
    read = make_token(data, "--project", "acme/shop", "--scope", "read")
    server = ServeProcess(data)
    yield server.url, ingest, read
    server.stop()


def stored_runs(url: str, read: str) -> list[dict[str, Any]]:
    import httpx

    deadline = time.monotonic() + 30
    headers = {"Authorization": f"Bearer {read}"}
    while True:  # the worker stores what the API accepted a moment ago
        health = httpx.get(f"{url}/healthz").json()
        if health["queue"] == {} or time.monotonic() > deadline:
            runs: list[dict[str, Any]] = httpx.get(
                f"{url}/api/v1/runs", params={"project": "acme/shop"}, headers=headers
            ).json()["runs"]
            return runs
        time.sleep(0.1)


def test_spooled_runs_are_delivered_once_by_upload_and_by_the_next_run(
    suite: tuple[Path, dict[str, str]], live_server: tuple[str, str, str]
) -> None:
    root, env = suite
    url, ingest, read = live_server
    env = {**env, "SUITESCOPE_TOKEN": ingest}
    for _ in range(2):
        run_suite(root, env, "--suitescope", f"--suitescope-url={refused_url()}")
    spool = Spool(Path(env["XDG_CACHE_HOME"]) / "suitescope" / "spool")
    assert len(spool.pending()) == 2
    first = spool.pending()[0].read_bytes()
    upload = [sys.executable, "-m", "suitescope.cli.main", "upload", "--url", url]
    done = subprocess.run(upload, cwd=root, env={**os.environ, **env}, capture_output=True, text=True, check=False)
    assert done.returncode == 0 and done.stdout.count(": sent") == 2, done.stdout + done.stderr
    assert spool.pending() == []
    spool.put("01a0000000-resent", first)  # the same run spooled again (a send that timed out after all)
    result, _ = run_suite(root, env, "--suitescope", f"--suitescope-url={url}")  # the next run sends the spool
    assert "run sent to" in result.stdout and "and 1 spooled run" in result.stdout
    runs = stored_runs(url, read)
    assert len(runs) == 3 and len({r["run_id"] for r in runs}) == 3  # two spooled + this one; the resend: once


def test_end_to_end_with_xdist_every_count_equals_the_local_file(
    suite: tuple[Path, dict[str, str]], live_server: tuple[str, str, str]
) -> None:
    import httpx

    from tests.conftest import read_run

    root, env = suite
    (root / "test_more.py").write_text(
        "import pytest\n"
        "@pytest.mark.parametrize('n', range(20))\n"
        "def test_n(n):\n    assert n % 7\n"
        "@pytest.mark.skip(reason='later')\ndef test_skipped(): pass\n"
        "@pytest.mark.xfail(strict=False)\ndef test_xfail(): assert 0\n"
    )
    url, ingest, read = live_server
    env = {**env, "SUITESCOPE_TOKEN": ingest}
    result, _ = run_suite(
        root, env, "-n", "2", "--suitescope", f"--suitescope-url={url}", "--suitescope-project=acme/shop"
    )
    assert "run sent to" in result.stdout, result.stdout
    local, tests = read_run(root)
    (stored,) = stored_runs(url, read)
    detail = httpx.get(f"{url}/api/v1/runs/{stored['run_id']}", headers={"Authorization": f"Bearer {read}"}).json()
    assert detail["run_id"] == local["run_id"]
    for status in ("passed", "failed", "error", "skipped", "xfailed", "xpassed"):
        assert detail[status] == local["counts"][status], status
    assert (detail["tests"], detail["attempts"], detail["tests_expected"]) == (
        local["tests"],
        local["attempts"],
        local["tests_expected"],
    )
    assert detail["results_total"] == len(tests)
    assert detail["record"]["configuration"]["workers"] == 2 and detail["record"]["project"] == "shop"


def test_unittest_and_django_parallel_runs_are_sent_once_by_the_writing_process(
    tmp_path: Path, fault_server: Any
) -> None:
    from tests.collector.unittest.suites import DJANGO_PROJECT
    from tests.collector.unittest.test_django_runner import manage
    from tests.collector.unittest.test_unittest_runner import write

    bodies: list[bytes] = []

    def accept(h: Any) -> None:
        bodies.append(gzip.decompress(h.rfile.read(int(h.headers["Content-Length"]))))
        h.send_response(202)
        h.send_header("Content-Length", "0")
        h.end_headers()

    url = fault_server(accept)
    env = {"SUITESCOPE_TOKEN": "sst_test-token-0123456789abcdefghij", "XDG_CONFIG_HOME": str(tmp_path / "config")}
    project = tmp_path / "django"
    write(project, DJANGO_PROJECT)
    (project / ".dbname").write_text("unused")
    result = manage(
        project,
        "sqlite",
        "--testrunner=suitescope.django.TestRunner",
        "--parallel",
        "2",
        f"--suitescope-url={url}",
        **env,
    )
    assert result.returncode == 1 and "suitescope: run sent to" in result.stderr, result.stderr
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "test_it.py").write_text("import unittest\nclass T(unittest.TestCase):\n    def test_a(self): pass\n")
    done = subprocess.run(
        [sys.executable, "-m", "suitescope.unittest", f"--suitescope-url={url}"],
        cwd=plain,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0 and "suitescope: run sent to" in done.stderr, done.stderr
    assert len(bodies) == 2  # one per run: Django's parallel workers sent nothing themselves
    runs = [json.loads(body.splitlines()[-1]) for body in bodies]
    assert [run["consent"]["sending"] for run in runs] == [True, True]
    assert runs[0]["configuration"]["workers"] == 2 and runs[0]["consent"]["anonymity"] == "anonymous"


def test_a_large_run_goes_in_parts_and_arrives_whole(
    suite: tuple[Path, dict[str, str]], live_server: tuple[str, str, str]
) -> None:
    from suitescope.sinks.http import post_run
    from tests.server.factory import make_report, ndjson

    url, ingest, read = live_server
    run, tests = make_report(["passed"] * 3000)
    body = gzip.compress(ndjson(run, tests))
    delivery = post_run(url, ingest, body, run["run_id"], time.monotonic() + 30, part_bytes=len(body) // 5)
    assert delivery.accepted, delivery
    (stored,) = stored_runs(url, read)
    assert stored["run_id"] == run["run_id"] and stored["tests"] == 3000
