"""POST /api/v1/junit with files from pytest (made here by pytest itself), Maven Surefire (with its flaky and
rerun failures), Jest (jest-junit) and Go (gotestsum); and what is refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.server.conftest import Server

HERE = Path(__file__).with_name("junit")
XML = {"Content-Type": "application/xml"}


def send_junit(server: Server, body: bytes, **params: Any) -> dict[str, Any]:
    answer = server.client.post("/api/v1/junit", content=body, params=params, headers={**XML, **server.auth("ingest")})
    assert answer.status_code == 202, answer.text
    server.drain()
    run = server.client.get(f"/api/v1/runs/{answer.json()['run_id']}", headers=server.auth("read"))
    assert run.status_code == 200, run.text
    stored: dict[str, Any] = run.json()
    return stored


def by_name(run: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for result in run["results"]:
        found.setdefault(result["name"], []).append(result)
    return found


def test_pytest_junitxml(server: Server, pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_x="""
        import pytest
        def test_ok(): pass
        def test_bad(): assert 1 == 2
        @pytest.fixture
        def broken(): raise RuntimeError("no db")
        def test_err(broken): pass
        @pytest.mark.skip(reason="later")
        def test_skip(): pass
        """
    )
    pytester.runpytest("--junitxml=out.xml", "-p", "no:randomly")
    run = send_junit(server, (pytester.path / "out.xml").read_bytes(), branch="main", commit="abc")
    assert (run["passed"], run["failed"], run["error"], run["skipped"]) == (1, 1, 1, 1)
    assert run["framework"] == "pytest" and run["source"] == "junit" and run["branch"] == "main"
    assert run["python_version"] is None and run["os"] is None  # not in the XML: unknown, not made up
    tests = by_name(run)
    assert tests["test_bad"][0]["nodeid"] == "test_x::test_bad"
    assert tests["test_bad"][0]["failure_message"].startswith("assert 1 == 2")
    assert tests["test_skip"][0]["reason"] and "later" in tests["test_skip"][0]["reason"]


def test_surefire_flaky_and_rerun_failures_are_attempts(server: Server) -> None:
    run = send_junit(server, (HERE / "surefire.xml").read_bytes())
    assert (run["passed"], run["failed"], run["error"], run["skipped"]) == (2, 1, 1, 1)
    assert run["framework"] == "surefire" and run["tests"] == 5 and run["reruns"] == 3
    assert run["started_at"] == "2026-11-20T09:15:02.000Z"
    tests = by_name(run)
    flaky = tests["discountApplies"]
    assert [(r["attempt"], r["status"], r["final"]) for r in flaky] == [(1, "failed", False), (2, "passed", True)]
    assert flaky[0]["failure_type"] == "org.opentest4j.AssertionFailedError"
    assert flaky[0]["failure_message"] == "expected: <90> but was: <100>"
    rerun = tests["totalIsRounded"]
    assert [(r["attempt"], r["status"], r["final"]) for r in rerun] == [
        (1, "failed", False),
        (2, "failed", False),
        (3, "failed", True),
    ]
    assert len({r["fingerprint"] for r in rerun}) == 1  # the same failure groups together
    assert tests["databaseIsReachable"][0]["failure_type"] == "java.net.ConnectException"
    assert tests["currencyConversion"][0]["reason"] == "not ready"


def test_jest_junit(server: Server) -> None:
    run = send_junit(server, (HERE / "jest.xml").read_bytes())
    assert run["framework"] == "jest" and (run["passed"], run["failed"], run["skipped"]) == (2, 1, 1)
    tests = by_name(run)
    assert tests["cart totals"][0]["failure_message"] == "Error: expect(received).toBe(expected) // Object.is equality"
    assert "cart renders <b>bold</b>" in tests  # stored as text; escaping is the reader's job
    assert run["duration_ms"] == 1234.0


def test_gotestsum(server: Server) -> None:
    run = send_junit(server, (HERE / "gotestsum.xml").read_bytes(), environment="linux-amd64")
    assert run["framework"] == "go" and run["framework_version"] == "go1.23.2 linux/amd64"
    assert (run["passed"], run["failed"], run["skipped"]) == (1, 1, 1) and run["environment"] == "linux-amd64"
    assert by_name(run)["TestTotal"][0]["nodeid"] == "github.com/acme/shop/cart::TestTotal"


def test_the_framework_can_be_named_in_the_query(server: Server) -> None:
    run = send_junit(server, (HERE / "jest.xml").read_bytes(), framework="vitest", framework_version="3.1")
    assert (run["framework"], run["framework_version"]) == ("vitest", "3.1")


@pytest.mark.parametrize(
    ("body", "headers", "status", "words"),
    [
        (b"<testsuite><testcase", XML, 400, "not well-formed"),
        (b"<html><body/></html>", XML, 422, "not a JUnit report"),
        (
            b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">]><testsuite>&lol;</testsuite>',
            XML,
            400,
            "DTD",
        ),
        (b"<testsuite/>", {"Content-Type": "application/json"}, 415, "not supported"),
    ],
    ids=["truncated", "not-junit", "entities", "wrong-type"],
)
def test_bad_junit_is_refused_with_a_reason(
    server: Server, body: bytes, headers: dict[str, str], status: int, words: str
) -> None:
    answer = server.client.post("/api/v1/junit", content=body, headers={**headers, **server.auth("ingest")})
    assert answer.status_code == status, answer.text
    assert words in answer.json()["error"]


def test_junit_needs_an_ingest_token_of_the_project(server: Server) -> None:
    body = (HERE / "jest.xml").read_bytes()
    assert server.client.post("/api/v1/junit", content=body, headers=XML).status_code == 401
    assert server.client.post("/api/v1/junit", content=body, headers={**XML, **server.auth("read")}).status_code == 403
    answer = server.client.post(
        "/api/v1/junit", content=body, params={"started": "soon"}, headers={**XML, **server.auth("ingest")}
    )
    assert answer.status_code == 422 and answer.json()["detail"][0]["loc"] == ["query", "started"]
