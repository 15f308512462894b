"""The findings endpoints: the analysis of `suitescope report` over the store, with evidence links."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any

from tests.server.conftest import Server
from tests.server.factory import add_host, make_report, ndjson

START = datetime.now(timezone.utc) - timedelta(days=2)


def get(server: Server, url: str, **params: Any) -> Any:
    answer = server.client.get(url, params={"project": "acme/shop", **params}, headers=server.auth("read"))
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_flaky_broken_and_failure_groups(server: Server) -> None:
    # test_0 passes and fails on one commit; test_1 fails from the 3rd run on; test_2 always passes
    plan = [
        ("c1", ["passed", "passed", "passed"]),
        ("c1", ["failed", "passed", "passed"]),
        ("c2", ["passed", "failed", "passed"]),
        ("c3", ["passed", "failed", "passed"]),
        ("c4", ["passed", "failed", "passed"]),
    ]
    for number, (commit, statuses) in enumerate(plan):
        server.send(statuses, commit=commit, started=START + timedelta(minutes=number))
    server.drain()
    found = get(server, "/api/v1/findings/flaky")
    assert [f["test"] for f in found["flaky"]] == ["tests/test_mod.py::test_0"]
    flaky = found["flaky"][0]
    assert flaky["reasons"][0] == "passed and failed on commit c1"
    assert all(e["run_url"] == f"/api/v1/runs/{e['run_id']}" for e in flaky["evidence"])
    (broken,) = found["broken"]
    assert (broken["test"], broken["first_failing_commit"], broken["last_passing_commit"]) == (
        "tests/test_mod.py::test_1",
        "c2",
        "c1",
    )
    groups = get(server, "/api/v1/findings/failures")["groups"]
    assert sum(g["count"] for g in groups) == 4 and {g["tests"] for g in groups} <= {1, 2}
    assert {t["nodeid"] for g in groups for t in g["affected_tests"]} == {
        "tests/test_mod.py::test_0",
        "tests/test_mod.py::test_1",
    }
    slow = get(server, "/api/v1/findings/slow", limit=2)
    assert slow["runs"] == 5 and [s["id"] for s in slow["slowest"]] == [
        "tests/test_mod.py::test_2",
        "tests/test_mod.py::test_1",
    ]


def test_regressions_and_lost_tests(server: Server) -> None:
    names = ["test_a", "test_b", "test_c"]
    for number in range(13):
        slow = 250.0 if number >= 10 else 100.0 + number % 3
        server.send(
            ["passed"] * 3,
            names=names,
            durations=[slow, 5.0, 5.0],
            ci=True,
            commit=f"c{number}",
            started=START + timedelta(minutes=number),
        )
    last, last_tests = make_report(
        ["passed"] * 2,
        names=names[:2],
        durations=[250.0, 5.0],
        ci=True,
        commit="c13",
        started=START + timedelta(minutes=13),
    )
    add_host(last_tests[1], "new.example.com")
    assert server.post_run(ndjson(last, last_tests)).status_code == 202
    server.drain()
    regressions = get(server, "/api/v1/findings/regressions")
    (slower,) = regressions["durations"]
    assert slower["test"] == "tests/test_mod.py::test_a" and slower["since_commit"] == "c10"
    assert slower["run_urls"][0].startswith("/api/v1/runs/")
    (host,) = regressions["new_hosts"]
    assert (host["test"], host["host"], host["since_commit"]) == ("tests/test_mod.py::test_b", "new.example.com", "c13")
    lost = get(server, "/api/v1/findings/lost")
    assert [(item["test"], item["reason"]) for item in lost["lost"]] == [
        ("tests/test_mod.py::test_c", "no longer collected: deleted, renamed or deselected")
    ]
    slower_page = page(server, "/p/acme/shop/regressions")
    assert re.search(r'<a href="/tests/[0-9a-f]{32}">tests/test_mod.py::test_a</a>', table(slower_page, "durations"))
    assert f'href="/runs/{slower["since_run"]}"' in slower_page and f"{slower['ratio']:.2f}x" in slower_page
    assert "new.example.com" in table(slower_page, "hosts")
    lost_page = page(server, "/p/acme/shop/lost")
    assert "tests/test_mod.py::test_c" in table(lost_page, "lost") and "Every run ran all it collected" in lost_page


def page(server: Server, url: str) -> str:
    answer = server.client.get(url, headers=server.auth("read"))
    assert answer.status_code == 200, answer.text
    return str(answer.text)


def table(html: str, table_id: str) -> str:
    """The HTML of one table of a page."""
    return html.split(f'<table id="{table_id}">')[1].split("</table>")[0]


def test_the_flaky_page_shows_the_api_findings_and_follows_new_runs(server: Server) -> None:
    for number, (commit, statuses) in enumerate([("c1", ["passed", "passed"]), ("c1", ["failed", "passed"])]):
        server.send(statuses, commit=commit, started=START + timedelta(minutes=number))
    server.drain()
    html = page(server, "/p/acme/shop/flaky")
    flaky = table(html, "flaky")
    assert "tests/test_mod.py::test_0" in flaky and "passed and failed on commit c1" in flaky
    assert flaky.count('class="ev ') == 2 and "test_1" not in flaky  # one link per run it cites
    assert page(server, "/p/acme/shop/flaky") == html  # the same findings, from the cache
    other = page(server, "/p/acme/shop/flaky?branch=feature")  # a branch with no runs: nothing flaky there
    assert 'value="feature"' in other and "No flaky tests." in other
    server.send(["passed", "failed"], commit="c1", started=START + timedelta(minutes=5))
    server.drain()
    stale = page(server, "/p/acme/shop/flaky")  # a new run: the findings as they were, while new ones are made
    assert "being recomputed" in stale and "tests/test_mod.py::test_1" not in table(stale, "flaky")
    server.state.findings.settle()
    fresh = page(server, "/p/acme/shop/flaky")
    assert "being recomputed" not in fresh and "tests/test_mod.py::test_1" in table(fresh, "flaky")
    found = get(server, "/api/v1/findings/flaky")
    assert found["stale"] is False and "tests/test_mod.py::test_1" in str(found["flaky"])


def test_findings_need_a_read_token_of_a_private_project(server: Server) -> None:
    for kind in ("flaky", "regressions", "lost", "failures"):
        answer = server.client.get(f"/api/v1/findings/{kind}", params={"project": "acme/shop"})
        assert answer.status_code == 404
        refused = server.client.get(f"/p/acme/shop/{kind}")
        assert refused.status_code == 404 and 'name="token"' in refused.text
