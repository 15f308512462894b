"""Read endpoints with millions of results stored: the latency of every query the dashboard makes, over HTTP
to `suitescope serve` on 127.0.0.1 with the SQLite store.

The store is filled through the worker's own write path (`Store.write_reports`), not HTTP (that is
tests/bench/ingest.py): RUNS runs of TESTS tests each, spread over 90 days on two branches and three Python
versions, a few failures in every run, then the days before today folded into rollups as the server does.
Target: p95 <= 100 ms for every endpoint.

    python tests/bench/reads.py [--runs 1000] [--tests 5000] [--requests 30] [--data-dir DIR] [--json FILE]
                                [--database postgresql://postgres@127.0.0.1/bench]   # PostgreSQL instead
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a script from a checkout

import httpx

from suitescope.server.reports import Report
from suitescope.server.rollups import fold_test_days
from suitescope.server.store import open_store
from suitescope.server.store.accounts import create_project, create_token
from suitescope.server.store.writes import Tags, test_id
from tests.bench.ingest import start
from tests.bench.latency import figures_of, line, worst
from tests.server.factory import make_report

TARGET_MS = 100.0
PROJECT = "bench/big"


def fill(data_dir: Path, runs: int, tests: int, database: str | None = None) -> tuple[str, list[str]]:
    """Store the runs (in the data directory's SQLite store, or at `database`); (a read token, the run ids)."""
    store = open_store(database or f"sqlite:///{data_dir / 'suitescope.db'}")
    store.migrate()
    with store.begin() as conn:
        project = create_project(conn, PROJECT)
        token = create_token(conn, "read", project.id)
        for other in range(20):  # an ecosystem around it
            create_project(conn, f"oss/lib{other}", public=True)
    template_run, template_tests = make_report(["passed"] * tests, names=[f"test_{i}" for i in range(tests)])
    now = datetime.now(timezone.utc)
    tags = Tags(project.id, PROJECT)
    run_ids: list[str] = []
    batch: list[tuple[Report, Tags]] = []
    began = time.perf_counter()
    for number in range(runs):
        run = copy.deepcopy(template_run)
        run["run_id"] = f"{number:08d}-0000-7000-8000-000000000000"
        run["started"] = (now - timedelta(days=90 * (runs - number) / runs)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        run["environment"]["python"]["version"] = ("3.11.9", "3.12.4", "3.13.0")[number % 3]
        run["environment"]["git"]["branch"] = "main" if number % 4 else "feature"
        records = list(template_tests)
        for index in range(number * 7, number * 7 + 40):  # 40 failures a run, moving through the suite
            failed = dict(records[index % tests])
            failed.update(status="failed", when="call")
            failed["failure"] = {
                "type": "AssertionError",
                "message": f"assert {index} == 0",
                "fingerprint": f"fp{index % 13}",
            }
            records[index % tests] = failed
        batch.append((Report(run, records), tags))
        run_ids.append(run["run_id"])
        if len(batch) == 10:
            store.write_reports(batch)
            batch = []
            done = number + 1
            rate = done * tests / (time.perf_counter() - began)
            print(f"\r  filling: {done}/{runs} runs, {rate:,.0f} results/s", end="", file=sys.stderr, flush=True)
    if batch:
        store.write_reports(batch)
    print(file=sys.stderr)
    began = time.perf_counter()
    with store.begin() as conn:
        days = fold_test_days(conn, (now - timedelta(days=1)).date().isoformat())
    print(f"  folded {days} days of test results into rollups in {time.perf_counter() - began:.1f} s", file=sys.stderr)
    store.close()
    return token, run_ids


def endpoints(run_ids: list[str], tests: int) -> dict[str, list[str]]:
    """Each dashboard query, with a few variants of its parameters to rotate through."""
    some_runs = run_ids[:: max(1, len(run_ids) // 10)]
    some_tests = [test_id(PROJECT, f"tests/test_mod.py::test_{i}") for i in range(0, tests, max(1, tests // 10))]
    week_ago = (datetime.now(timezone.utc) - timedelta(days=7)).date().isoformat()
    return {
        "projects": ["/api/v1/projects"],
        "runs (latest 50)": [f"/api/v1/runs?project={PROJECT}"],
        "runs of a branch": [f"/api/v1/runs?project={PROJECT}&branch=feature"],
        "runs of a week": [f"/api/v1/runs?project={PROJECT}&since={week_ago}"],
        "run: first 1000 results": [f"/api/v1/runs/{r}" for r in some_runs],
        "run: failures": [f"/api/v1/runs/{r}?status=failed&status=error" for r in some_runs],
        "run: 20 slowest": [f"/api/v1/runs/{r}?order=slowest&limit=20" for r in some_runs],
        "test: history + trend": [f"/api/v1/tests/{t}" for t in some_tests],
        "trends, daily": [f"/api/v1/trends?project={PROJECT}"],
        "trends, monthly": [f"/api/v1/trends?project={PROJECT}&period=month"],
        "environments: project": [f"/api/v1/environments?project={PROJECT}&by=python_version"],
        "environments: ecosystem": ["/api/v1/environments?by=os&period=month"],
        "annotations": [f"/api/v1/annotations?project={PROJECT}"],
        "report status": [f"/api/v1/reports/{r}" for r in some_runs],
    }


def measure(url: str, token: str, paths: list[str], requests: int) -> list[float]:
    headers = {"Authorization": f"Bearer {token}"}
    times = []
    with httpx.Client(base_url=url, headers=headers, timeout=60) as client:
        for number in range(requests + 3):
            path = paths[number % len(paths)]
            began = time.perf_counter()
            answer = client.get(path)
            elapsed = (time.perf_counter() - began) * 1000
            assert answer.status_code == 200, f"{path}: {answer.status_code} {answer.text[:300]}"
            if number >= 3:  # the first ones warm the page cache
                times.append(elapsed)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--tests", type=int, default=5000)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--data-dir", type=Path, help="keep the filled store here (default: a temporary folder)")
    parser.add_argument("--database", help="a store URL to fill instead, e.g. postgresql://postgres@127.0.0.1/bench")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = args.data_dir or Path(tmp)
        data_dir.mkdir(parents=True, exist_ok=True)
        print(f"storing {args.runs * args.tests:,} results ...", file=sys.stderr)
        token, run_ids = fill(data_dir, args.runs, args.tests, args.database)
        url, procs = start(data_dir, "embedded", *(["--database", args.database] if args.database else []))
        figures: dict[str, Any] = {"results": args.runs * args.tests}
        try:
            print(f"{'endpoint':<26} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
            for name, paths in endpoints(run_ids, args.tests).items():
                figures[name] = figures_of(measure(url, token, paths, args.requests))
                print(line(name, figures[name], TARGET_MS, 26))
        finally:
            for proc in procs:
                proc.terminate()
                proc.wait()
    print(worst(figures, TARGET_MS))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
