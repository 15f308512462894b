"""POST /api/v1/runs through the real app: accepted reports are stored once, bad ones are answered with
what is wrong and where, and never a 500."""

from __future__ import annotations

import gzip
from typing import Any

import orjson
import pytest

from tests.server.conftest import NDJSON, Server
from tests.server.factory import make_report, ndjson


def stored_results(server: Server, run_id: str) -> list[dict[str, Any]]:
    answer = server.client.get(f"/api/v1/runs/{run_id}", headers=server.auth("read"))
    assert answer.status_code == 200, answer.text
    results: list[dict[str, Any]] = answer.json()["results"]
    return results


def test_a_run_is_queued_then_stored_with_every_test(server: Server) -> None:
    run, tests = make_report(["passed", "failed", "skipped", "xfailed"])
    answer = server.post_run(ndjson(run, tests))
    assert answer.status_code == 202
    body = answer.json()
    assert body["run_id"] == run["run_id"] and body["tests"] == 4
    assert answer.headers["location"] == body["status_url"]
    status = server.client.get(body["status_url"], headers=server.auth("ingest")).json()
    assert status["state"] == "queued"
    assert server.drain() == 1
    assert server.client.get(body["status_url"], headers=server.auth("ingest")).json()["state"] == "stored"
    results = stored_results(server, run["run_id"])
    assert [r["nodeid"] for r in results] == [t["id"] for t in tests]
    assert [r["status"] for r in results] == ["passed", "failed", "skipped", "xfailed"]
    assert results[1]["failure_message"] == "assert 1 == 0" and results[1]["phase"] == "call"
    detail = server.client.get(f"/api/v1/runs/{run['run_id']}", headers=server.auth("read")).json()
    assert (detail["passed"], detail["failed"], detail["skipped"], detail["xfailed"]) == (1, 1, 1, 1)
    assert detail["project"] == "acme/shop" and detail["branch"] == "main" and detail["python_version"] == "3.12"
    assert detail["record"] == run  # the run record as sent: nothing the columns leave out is lost


def test_gzip_and_the_json_form_are_accepted(server: Server) -> None:
    run, tests = make_report()
    assert server.post_run(ndjson(run, tests), gzip=True).status_code == 202
    run2, tests2 = make_report()
    answer = server.client.post(
        "/api/v1/runs",
        content=orjson.dumps({"run": run2, "tests": tests2}),
        headers={"Content-Type": "application/json", **server.auth("ingest")},
    )
    assert answer.status_code == 202, answer.text
    assert server.drain() == 2
    assert len(stored_results(server, run["run_id"])) == 3
    assert len(stored_results(server, run2["run_id"])) == 3


def test_the_same_run_sent_twice_is_stored_once(server: Server) -> None:
    run, tests = make_report(["passed", "failed"])
    body = ndjson(run, tests)
    assert server.post_run(body).status_code == 202
    assert server.post_run(body).status_code == 202
    assert server.drain() == 2
    assert len(stored_results(server, run["run_id"])) == 2
    assert server.state.metrics.value("suitescope_reports_stored_total") == 1
    assert server.state.metrics.value("suitescope_reports_duplicate_total") == 1
    trend = server.client.get("/api/v1/trends", params={"project": "acme/shop"}, headers=server.auth("read")).json()
    assert trend["points"][0]["runs"] == 1  # folded into the rollups once, too


def test_labels_from_the_query_override_the_record(server: Server) -> None:
    run, tests = make_report()
    answer = server.post_run(ndjson(run, tests), environment="py312-linux", branch="release/2", commit="f00d")
    assert answer.status_code == 202
    server.drain()
    detail = server.client.get(f"/api/v1/runs/{run['run_id']}", headers=server.auth("read")).json()
    assert (detail["environment"], detail["branch"], detail["commit_sha"]) == ("py312-linux", "release/2", "f00d")


def test_a_real_collector_run_is_accepted(server: Server, pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_real="""
        import pytest
        def test_ok(): assert 1
        def test_bad(): assert 0, "nope"
        @pytest.mark.skip(reason="later")
        def test_skip(): pass
        @pytest.mark.parametrize("n", [1, 2])
        def test_param(n): assert n
        """
    )
    pytester.runpytest("--suitescope", "-p", "no:randomly").assert_outcomes(passed=3, failed=1, skipped=1)
    (path,) = (pytester.path / ".telemetry").glob("*.ndjson")
    answer = server.post_run(path.read_bytes(), gzip=True)
    assert answer.status_code == 202, answer.text
    server.drain()
    results = stored_results(server, answer.json()["run_id"])
    assert sorted(r["status"] for r in results) == ["failed", "passed", "passed", "passed", "skipped"]
    assert {r["name"] for r in results} >= {"test_param[1]", "test_param[2]"}


def post_raw(server: Server, body: bytes, headers: dict[str, str] | None = None, token: str | None = "ingest") -> Any:
    return server.client.post("/api/v1/runs", content=body, headers={**NDJSON, **server.auth(token), **(headers or {})})


def error_of(answer: Any, status: int) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    body: dict[str, Any] = answer.json()
    assert set(body) == {"error", "detail"} and body["error"]
    return body


def test_unsupported_content_type_and_encoding_are_415(server: Server) -> None:
    run, tests = make_report()
    body = error_of(post_raw(server, ndjson(run, tests), {"Content-Type": "text/csv"}), 415)
    assert body["detail"][0]["loc"] == ["header", "content-type"]
    body = error_of(post_raw(server, ndjson(run, tests), {"Content-Encoding": "br"}), 415)
    assert body["detail"][0]["loc"] == ["header", "content-encoding"]


def test_broken_json_and_broken_gzip_are_400(server: Server) -> None:
    run, tests = make_report()
    lines = ndjson(run, tests).split(b"\n")
    lines[1] = lines[1][:40]
    body = error_of(post_raw(server, b"\n".join(lines)), 400)
    assert body["detail"][0]["loc"] == ["body", "line 2"]
    body = error_of(post_raw(server, b"\x1f\x8b\x08garbage", {"Content-Encoding": "gzip"}), 400)
    assert "gzip" in body["error"]
    truncated = gzip.compress(ndjson(run, tests))[:-12]
    error_of(post_raw(server, truncated, {"Content-Encoding": "gzip"}), 400)


def test_schema_errors_name_the_line_and_field(server: Server) -> None:
    run, tests = make_report()
    tests[1]["status"] = "exploded"
    tests[2]["duration_ms"] = "12"
    body = error_of(post_raw(server, ndjson(run, tests)), 422)
    locs = {tuple(d["loc"]) for d in body["detail"]}
    assert ("body", "line 2", "status") in locs
    assert ("body", "line 3", "duration_ms") in locs
    assert all(d["msg"] for d in body["detail"])


@pytest.mark.parametrize(
    ("change", "loc_end"),
    [
        (lambda run, tests: tests.append(dict(run)), "body"),  # two run records
        (lambda run, tests: tests[0].update(run_id="another-run"), "run_id"),
        (lambda run, tests: run.update(run_id="not a valid id!"), "run_id"),
        (lambda run, tests: tests[0].update(schema_version="2.0.0"), "schema_version"),
        (lambda run, tests: tests[0].update(kind="suite"), "kind"),
        (lambda run, tests: tests[0].update(name="x" * 70_000), "name"),
        (lambda run, tests: run.update(note={"deep": ["y" * 70_000]}), 0),  # in a field schema v1 does not know
        (lambda run, tests: run.update(started="yesterday"), "started"),
    ],
    ids=[
        "two-runs",
        "foreign-run-id",
        "bad-run-id",
        "major-2",
        "unknown-kind",
        "long-string",
        "long-extra",
        "bad-time",
    ],
)
def test_invalid_reports_are_422_naming_the_field(server: Server, change: Any, loc_end: str | int) -> None:
    run, tests = make_report()
    change(run, tests)
    body = error_of(post_raw(server, ndjson(run, tests)), 422)
    assert body["detail"][0]["loc"][-1] == loc_end, body


def test_a_report_without_a_run_record_is_422(server: Server) -> None:
    _run, tests = make_report()
    body = error_of(post_raw(server, b"".join(orjson.dumps(t) + b"\n" for t in tests)), 422)
    assert "one run record" in body["error"]


def test_the_json_form_must_have_run_and_tests(server: Server) -> None:
    answer = server.client.post(
        "/api/v1/runs", content=b'{"run": 3}', headers={"Content-Type": "application/json", **server.auth("ingest")}
    )
    assert {tuple(d["loc"]) for d in error_of(answer, 422)["detail"]} == {("body", "run"), ("body", "tests")}
    error_of(
        server.client.post(
            "/api/v1/runs", content=b"[1, 2]", headers={"Content-Type": "application/json", **server.auth("ingest")}
        ),
        422,
    )


def test_limits_on_body_decompressed_size_and_records(server_factory: Any) -> None:
    from suitescope.server.body import Limits

    server = server_factory(limits=Limits(max_body=20_000, max_decompressed=50_000, max_records=10))
    run, tests = make_report(["passed"] * 11)
    assert "limit of 10" in error_of(server.post_run(ndjson(run, tests), gzip=True), 413)["error"]
    run, tests = make_report(["passed"] * 40)
    assert "body is larger" in error_of(server.post_run(ndjson(run, tests)), 413)["error"]
    bomb = gzip.compress(b" " * 10_000_000)  # 10 MB of spaces in 10 kB
    assert len(bomb) < 20_000
    body = error_of(post_raw(server, bomb, {"Content-Encoding": "gzip"}), 413)
    assert "decompressed body" in body["error"]
    assert server.state.queue.depth().ready == 0  # nothing refused was queued


def test_nesting_deeper_than_the_parser_allows_is_400(server: Server) -> None:
    run, tests = make_report()
    deep = b'{"a":' * 2000 + b"1" + b"}" * 2000
    line = orjson.dumps(tests[0])[:-1] + b',"extra":' + deep + b"}"
    error_of(post_raw(server, line + b"\n" + orjson.dumps(run)), 400)


def test_unknown_fields_of_a_newer_minor_version_are_kept_not_refused(server: Server) -> None:
    run, tests = make_report()
    run["schema_version"] = "1.9.0"
    run["something_new"] = {"x": 1}
    assert server.post_run(ndjson(run, tests)).status_code == 202
    server.drain()
    detail = server.client.get(f"/api/v1/runs/{run['run_id']}", headers=server.auth("read")).json()
    assert detail["record"]["something_new"] == {"x": 1}


def test_an_older_minor_version_is_upgraded(server: Server) -> None:
    run, tests = make_report()
    for record in [run, *tests]:
        record["schema_version"] = "1.0.0"
    for test in tests:
        for key in ("db", "db_queries", "network", "net_urls", "memory", "cpu"):
            del test[key]
    del run["effects"], run["subtests_failed"]
    assert server.post_run(ndjson(run, tests)).status_code == 202, server.post_run(ndjson(run, tests)).text
    server.drain()
    results = stored_results(server, run["run_id"])
    assert [r["db_queries"] for r in results] == [None, None, None]  # not measured, not zero


def post_part(server: Server, body: bytes, run_id: str, part: int, parts: int, token: str = "ingest") -> Any:
    return server.post_run(body, token=token, gzip=True, run_id=run_id, part=part, parts=parts)


def test_a_run_sent_in_parts_is_queued_whole_when_the_last_part_is_in(server: Server) -> None:
    run, tests = make_report(["passed"] * 7 + ["failed"] * 2)
    lines = ndjson(run, tests).splitlines(keepends=True)
    pieces = [b"".join(lines[0:4]), b"".join(lines[4:8]), b"".join(lines[8:])]  # the run record is last
    first = post_part(server, pieces[0], run["run_id"], 1, 3)
    assert first.status_code == 202 and first.json()["complete"] is False and first.json()["parts_received"] == 1
    status = server.client.get(first.json()["status_url"], headers=server.auth("ingest")).json()
    assert (status["state"], status["parts_received"], status["parts"]) == ("partial", 1, 3)
    assert post_part(server, pieces[2], run["run_id"], 3, 3).json()["complete"] is False  # in any order
    assert post_part(server, pieces[0], run["run_id"], 1, 3).json()["parts_received"] == 2  # again: replaced
    last = post_part(server, pieces[1], run["run_id"], 2, 3)
    assert last.status_code == 202 and last.json()["complete"] is True
    assert server.drain() == 1
    stored = stored_results(server, run["run_id"])
    assert [r["nodeid"] for r in stored] == [t["id"] for t in tests]


def test_parts_that_cannot_make_a_run_are_refused_and_dropped(server: Server) -> None:
    run, tests = make_report(["passed"] * 4)
    lines = ndjson(run, tests).splitlines(keepends=True)
    no_run = [b"".join(lines[0:2]), b"".join(lines[2:4])]
    assert post_part(server, no_run[0], run["run_id"], 1, 2).status_code == 202
    body = error_of(post_part(server, no_run[1], run["run_id"], 2, 2), 422)
    assert "exactly one run record" in body["error"]
    assert server.state.queue.parts_received(run["run_id"]) is None  # dropped: the sender starts again
    other, other_tests = make_report()
    foreign = error_of(post_part(server, ndjson(other, other_tests), run["run_id"], 1, 2), 422)
    assert "must be of run" in foreign["error"]
    missing = server.post_run(lines[0], gzip=True, part=1, parts=2)
    assert error_of(missing, 422)["detail"][0]["loc"] == ["query", "run_id"]
    assert error_of(server.post_run(lines[0], gzip=True, run_id=run["run_id"], part=3, parts=2), 422)
