"""Read endpoints over stored runs: filters, a test's history, environment breakdowns, trends, retention."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from suitescope.server.rollups import Retention, apply_retention
from suitescope.server.store.accounts import create_project, create_token
from tests.server.conftest import Server
from tests.server.factory import make_report, ndjson

# Yesterday at noon: runs made minutes or hours around it fall on one day, whenever the suite runs.
NOW = (datetime.now(timezone.utc) - timedelta(days=1)).replace(hour=12, minute=0, second=0, microsecond=0)


def get(server: Server, url: str, who: str | None = "read", **params: Any) -> Any:
    answer = server.client.get(url, params=params, headers=server.auth(who))
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_runs_are_listed_newest_first_and_filtered(server: Server) -> None:
    old, _ = server.send(started=NOW - timedelta(days=3), branch="main")
    mid, _ = server.send(started=NOW - timedelta(days=2), branch="feature")
    new, _ = server.send(started=NOW - timedelta(days=1), branch="main")
    run, tests = make_report(started=NOW)
    server.post_run(ndjson(run, tests), environment="nightly")
    server.drain()
    listed = get(server, "/api/v1/runs", project="acme/shop")["runs"]
    assert [r["run_id"] for r in listed] == [run["run_id"], new["run_id"], mid["run_id"], old["run_id"]]
    assert "record" not in listed[0]  # lists stay small
    main = get(server, "/api/v1/runs", project="acme/shop", branch="main")["runs"]
    assert [r["run_id"] for r in main] == [run["run_id"], new["run_id"], old["run_id"]]
    assert [r["run_id"] for r in get(server, "/api/v1/runs", project="acme/shop", environment="nightly")["runs"]] == [
        run["run_id"]
    ]
    window = get(
        server,
        "/api/v1/runs",
        project="acme/shop",
        since=(NOW - timedelta(days=2, hours=1)).isoformat(),
        until=(NOW - timedelta(hours=1)).isoformat(),
    )["runs"]
    assert [r["run_id"] for r in window] == [new["run_id"], mid["run_id"]]
    assert len(get(server, "/api/v1/runs", project="acme/shop", limit=2)["runs"]) == 2
    bad = server.client.get(
        "/api/v1/runs", params={"project": "acme/shop", "since": "last week"}, headers=server.auth("read")
    )
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "since"]
    assert (
        server.client.get(
            "/api/v1/runs", params={"project": "acme/shop", "limit": 0}, headers=server.auth("read")
        ).status_code
        == 422
    )


def test_a_tests_history_across_runs(server: Server) -> None:
    statuses = [["passed", "passed"], ["failed", "passed"], ["passed", "passed"]]
    runs = [server.send(s, started=NOW - timedelta(hours=3 - i))[0] for i, s in enumerate(statuses)]
    server.drain()
    test_id = get(server, f"/api/v1/runs/{runs[0]['run_id']}")["results"][0]["test_id"]
    test = get(server, f"/api/v1/tests/{test_id}")
    assert test["nodeid"] == "tests/test_mod.py::test_0" and test["project"] == "acme/shop"
    assert [h["status"] for h in test["history"]] == ["passed", "failed", "passed"]  # newest first
    assert [h["run_id"] for h in test["history"]] == [r["run_id"] for r in reversed(runs)]
    assert test["history"][1]["failure_message"] == "assert 0 == 0"
    assert test["trend"][0]["runs"] == 3 and test["trend"][0]["failed"] == 1
    assert server.client.get("/api/v1/tests/nope", headers=server.auth("read")).status_code == 404


def test_environments_of_one_project_and_of_the_ecosystem(server: Server) -> None:
    with server.state.store.begin() as conn:
        anonymous = create_project(conn, "anon:5f2c", anonymous=True).id
        anon_token = create_token(conn, "ingest", anonymous)
    for python in ("3.11.9", "3.12.4", "3.12.1"):
        server.send(python=python)  # private: in its own view only
    for python, token in (("3.13.0", "pub_ingest"), ("3.12.0", "pub_ingest")):
        run, tests = make_report(python=python)
        assert server.post_run(ndjson(run, tests), token=token).status_code == 202
    run, tests = make_report(python="3.10.2")
    server.client.post(
        "/api/v1/runs",
        content=ndjson(run, tests),
        headers={"Content-Type": "application/x-ndjson", "Authorization": f"Bearer {anon_token}"},
    )
    server.drain()
    own = get(server, "/api/v1/environments", project="acme/shop")["points"]
    assert {(p["value"], p["runs"]) for p in own} == {("3.11", 1), ("3.12", 2)}
    ecosystem = get(server, "/api/v1/environments", who=None)["points"]
    assert {(p["value"], p["runs"]) for p in ecosystem} == {("3.13", 1), ("3.12", 1), ("3.10", 1)}
    by_os = get(server, "/api/v1/environments", who=None, by="os", period="month")["points"]
    assert by_os == [{"period": datetime.now(timezone.utc).strftime("%Y-%m"), "value": "Linux", "runs": 3}]
    assert server.client.get("/api/v1/environments", params={"by": "hostname"}).status_code == 422
    assert "anon:5f2c" not in {p["name"] for p in get(server, "/api/v1/projects", who=None)["projects"]}


def test_trends_by_day_and_month_with_percentiles(server: Server) -> None:
    durations = [10.0, 20.0, 30.0, 40.0, 1000.0]
    for day in range(2):
        for i, ms in enumerate(durations):
            run, tests = make_report(["passed"], durations=[ms], started=NOW - timedelta(days=day, minutes=i))
            run["duration_ms"] = ms
            assert server.post_run(ndjson(run, tests)).status_code == 202
    server.drain()
    daily = get(server, "/api/v1/trends", project="acme/shop")["points"]
    assert [p["runs"] for p in daily] == [5, 5]
    for point in daily:
        assert abs(point["duration_p50_ms"] - 30.0) / 30.0 < 0.02
        assert abs(point["duration_p95_ms"] - 1000.0) / 1000.0 < 0.02
        assert point["duration_avg_ms"] == sum(durations) / 5 and point["duration_max_ms"] == 1000.0
    monthly = get(server, "/api/v1/trends", project="acme/shop", period="month")["points"]
    assert sum(p["runs"] for p in monthly) == 10 and sum(p["tests"] for p in monthly) == 10


def test_retention_deletes_raw_results_and_leaves_every_trend_as_it_was(server: Server) -> None:
    ages = [200, 120, 100, 10, 1]
    runs = [server.send(["passed", "failed", "passed"], started=NOW - timedelta(days=age))[0] for age in ages]
    server.drain()
    test_id = get(server, f"/api/v1/runs/{runs[-1]['run_id']}")["results"][0]["test_id"]

    def trends() -> Any:
        return (
            get(server, "/api/v1/trends", project="acme/shop"),
            get(server, "/api/v1/trends", project="acme/shop", period="month"),
            get(server, f"/api/v1/tests/{test_id}")["trend"],
            get(server, "/api/v1/environments", project="acme/shop"),
        )

    before = trends()
    with server.state.store.begin() as conn:
        deleted = apply_retention(conn, Retention(days=90, failure_days=150))
    # passing results older than 90 days go (3 runs x 2); failures stay until 150 days (1 of 3 runs x 1)
    assert deleted.results == 3 * 2 + 1
    if server.state.store.engine.dialect.name == "postgresql":  # whole months went as partitions
        assert any(name.endswith("_raw") for name in deleted.partitions), deleted.partitions
    assert trends() == before
    assert len(get(server, f"/api/v1/runs/{runs[0]['run_id']}")["results"]) == 0  # the run itself stays
    assert [r["status"] for r in get(server, f"/api/v1/runs/{runs[1]['run_id']}")["results"]] == ["failed"]
    assert len(get(server, f"/api/v1/runs/{runs[3]['run_id']}")["results"]) == 3


def test_folding_days_and_months_changes_no_trend(server: Server) -> None:
    """Test results are folded into daily rollups once their day is over, days into months once past the daily
    window; a test's trend reads raw results for what is not folded yet. Every view stays the same."""
    from suitescope.server.rollups import fold_test_days, folded_through

    ages = [500, 480, 40, 3, 2]
    runs = [
        server.send(["passed", "failed"], started=NOW - timedelta(days=age), durations=[5.0 + age, 7.0])[0]
        for age in ages
    ]
    server.drain()
    test_id = get(server, f"/api/v1/runs/{runs[0]['run_id']}")["results"][0]["test_id"]

    window = (datetime.now(timezone.utc) - timedelta(days=60)).date().isoformat()  # inside every daily window

    def views() -> Any:
        return [
            [point for point in get(server, f"/api/v1/tests/{test_id}")["trend"] if point["period"] >= window],
            reads_trend(server, test_id, monthly=True),
            get(server, "/api/v1/trends", project="acme/shop", period="month"),
            get(server, "/api/v1/trends", project="acme/shop", since=window),
        ]

    before = views()
    assert sum(point["runs"] for point in before[1]) == 5
    through = (NOW - timedelta(days=3)).date().isoformat()
    for _ in range(3):  # day by day, as the server does it
        with server.state.store.begin() as conn:
            assert fold_test_days(conn, through, max_days=1) == 1
        assert views() == before
    with server.state.store.begin() as conn:
        assert fold_test_days(conn, through) == 1  # the rest at once; a late run's day is next
        assert folded_through(conn) == through
        assert fold_test_days(conn, through) == 0
    assert views() == before
    late, _ = server.send(["passed", "passed"], started=NOW - timedelta(days=40, hours=1))  # a day already folded
    server.drain()
    after_late = views()
    assert after_late[0][-3]["runs"] == 2  # the late run was folded in as it was stored
    assert sum(point["runs"] for point in after_late[1]) == 6  # by month: every result, the late one too
    with server.state.store.begin() as conn:
        apply_retention(conn, Retention(days=30, failure_days=30, daily_rollup_days=100))
    assert views() == after_late
    assert late["run_id"]


def reads_trend(server: Server, test_id: str, monthly: bool) -> Any:
    from suitescope.server.store.reads import trend

    with server.state.store.read() as conn:
        return trend(conn, test_id, None, None, monthly)


def test_a_runs_results_filtered_ordered_and_paged(server: Server) -> None:
    run, _ = server.send(["passed", "failed", "passed", "error", "skipped"], durations=[5.0, 1.0, 9.0, 3.0, 0.1])
    server.drain()
    url = f"/api/v1/runs/{run['run_id']}"
    everything = get(server, url)
    assert everything["results_total"] == 5 and [r["seq"] for r in everything["results"]] == [0, 1, 2, 3, 4]
    failing = server.client.get(
        url, params=[("status", "failed"), ("status", "error")], headers=server.auth("read")
    ).json()
    assert failing["results_total"] == 2 and [r["status"] for r in failing["results"]] == ["failed", "error"]
    slowest = get(server, url, order="slowest", limit=2)
    assert slowest["results_total"] == 5 and [r["duration_ms"] for r in slowest["results"]] == [9.0, 5.0]
    assert [r["seq"] for r in get(server, url, limit=2, offset=3)["results"]] == [3, 4]
    bad = server.client.get(url, params={"status": "exploded"}, headers=server.auth("read"))
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"][:2] == ["query", "status"]


def test_the_server_folds_finished_days_by_itself(server_factory: Any) -> None:
    import time

    from suitescope.server.rollups import folded_through

    server = server_factory(run_worker=True, retention_every_s=0.2)
    server.send(started=NOW - timedelta(days=2))
    deadline = time.monotonic() + 30
    yesterday = (datetime.now(timezone.utc) - timedelta(days=1)).date().isoformat()
    count = "SELECT count(*) FROM rollups WHERE length(subject) = 32"  # rows of tests, not of the project
    while time.monotonic() < deadline:  # the worker stores the run, the retention thread folds its day
        with server.state.store.read() as conn:
            if folded_through(conn) == yesterday and conn.exec_driver_sql(count).scalar_one() == 3:
                break
        time.sleep(0.1)
    with server.state.store.read() as conn:
        assert folded_through(conn) == yesterday
        assert conn.exec_driver_sql(count).scalar_one() == 3
