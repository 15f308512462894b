"""Outbound connections per test, whatever the client, with URLs where the client has them; blocking."""

from __future__ import annotations

from typing import Any

import pytest

from tests.collector.instrument.suites import NETWORK_SUITE
from tests.conftest import by_id, read_run


def calls(test: dict[str, Any]) -> set[tuple[Any, ...]]:
    return {(c["kind"], c["scheme"], c["url"] or c["host"], c["count"], c["loopback"]) for c in test["network"]}


@pytest.fixture
def network_run(pytester: pytest.Pytester) -> tuple[dict[str, Any], dict[str, dict[str, Any]], int]:
    pytester.makepyfile(test_net=NETWORK_SUITE)
    pytester.runpytest("--suitescope", "-p", "no:randomly").assert_outcomes(passed=12)
    run, tests = read_run(pytester.path)
    by_name = by_id(tests)
    [port] = {c["port"] for c in by_name["test_raw_socket"]["network"]}
    return run, by_name, port


def test_http_clients_give_urls_without_query_strings(network_run: Any) -> None:
    _, tests, port = network_run
    base = f"http://127.0.0.1:{port}"
    assert calls(tests["test_requests"]) == {("http", "http", f"{base}/a", 2, True)}
    assert calls(tests["test_httpx_sync"]) == {
        ("http", "http", f"{base}/b", 2, True),
        ("http", "http", f"{base}/c", 1, True),
    }
    assert calls(tests["test_httpx_async"]) == {("http", "http", f"{base}/d", 3, True)}
    assert calls(tests["test_urllib_by_name"]) == {("http", "http", f"http://localhost:{port}/e", 1, True)}
    assert tests["test_requests"]["net_urls"] == [f"{base}/a"]


def test_sockets_threads_and_tasks(network_run: Any) -> None:
    _, tests, port = network_run
    assert calls(tests["test_raw_socket"]) == {("socket", "tcp", "127.0.0.1", 1, True)}
    assert calls(tests["test_asyncio_stream"]) == {("socket", "tcp", "127.0.0.1", 1, True)}
    assert calls(tests["test_thread"]) == {("http", "http", f"http://127.0.0.1:{port}/t", 1, True)}
    [fixture_call] = tests["test_fixture_phase"]["network"]
    assert (fixture_call["url"], fixture_call["phase"]) == (f"http://127.0.0.1:{port}/from-fixture", "setup")


def test_mocked_calls_are_not_network(network_run: Any) -> None:
    _, tests, _ = network_run
    assert tests["test_mocked_is_not_network"]["network"] == []


def test_external_hosts_databases_and_unix_sockets(network_run: Any) -> None:
    run, tests, _ = network_run
    assert calls(tests["test_external"]) == {("socket", "tcp", "192.0.2.10", 1, False)}
    assert calls(tests["test_external_database"]) == {("db", "postgresql", "192.0.2.10", 1, False)}
    assert calls(tests["test_unix_socket"]) == {("unix", "unix", None, 1, True)}
    # "Unmocked network": attempts that reached a host that is not this machine, databases included.
    assert run["effects"]["external_network_tests"] == 2


BLOCKED = """
import socket

def nonblocking_connect(host, port):
    sock = socket.socket()
    sock.setblocking(False)
    try:
        sock.connect_ex((host, port))
    finally:
        sock.close()

def test_external():
    nonblocking_connect("192.0.2.10", 443)

def test_database_port_is_allowed():
    nonblocking_connect("192.0.2.10", 5432)

def test_loopback_is_allowed():
    nonblocking_connect("127.0.0.1", 9)
"""


def test_block_network_fails_only_external_connections(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_blocked=BLOCKED)
    result = pytester.runpytest("--suitescope", "--suitescope-block-network")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(
        ["*NetworkBlocked: suitescope blocked a network connection to 192.0.2.10:443 (not loopback)*"]
    )
    _, tests = read_run(pytester.path)
    failure = by_id(tests)["test_external"]["failure"]
    assert failure["type"] == "suitescope.collector.instrument.network.NetworkBlocked"


def test_nothing_is_blocked_without_the_option(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_blocked=BLOCKED)
    pytester.runpytest("--suitescope").assert_outcomes(passed=3)


SENDER = """
import http.server
import threading
import urllib.request


class Ok(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_only_the_test_s_own_request_is_recorded():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Ok)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"

    def get(path):
        with urllib.request.urlopen(url + path):
            pass

    sender = threading.Thread(target=get, args=("/collector-upload",), name="suitescope-sender")
    sender.start()
    sender.join()
    get("/mine")
    server.shutdown()
    server.server_close()
"""


def test_the_collector_s_own_traffic_is_never_recorded(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_sender=SENDER)
    pytester.runpytest("--suitescope").assert_outcomes(passed=1)
    _, [test] = read_run(pytester.path)
    assert [call["url"].rpartition("/")[2] for call in test["network"]] == ["mine"]
