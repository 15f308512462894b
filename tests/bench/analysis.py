"""The findings over 1,000,000 stored results: each analysis endpoint, through the app, on the embedded
(SQLite) store. Target: each returns in <= 1 s.

200 CI runs of a 5,000-test suite on main: 60 flaky tests failing 20% of the time at random, 5 tests broken
for the last 10 runs, 10 tests 3x slower for the last 5 runs, 20 tests gone in the last run.

    python tests/bench/analysis.py [--runs 200] [--tests 5000] [--repeat 5] [--json FILE]
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a script from a checkout

from fastapi.testclient import TestClient

from suitescope.server.app import create_app
from suitescope.server.reports import Report
from suitescope.server.settings import ServerSettings
from suitescope.server.store import open_store
from suitescope.server.store.accounts import create_project, create_token
from suitescope.server.store.writes import Tags
from tests.server.factory import make_report

TARGET_S = 1.0


def fill(data_dir: Path, runs: int, tests: int) -> str:
    store = open_store(f"sqlite:///{data_dir / 'suitescope.db'}")
    store.migrate()
    with store.begin() as conn:
        project = create_project(conn, "bench/suite")
        token = create_token(conn, "read", project.id)
    template_run, template_tests = make_report(["passed"] * tests, names=[f"test_{i}" for i in range(tests)], ci=True)
    rng = random.Random(7)
    start = datetime.now(timezone.utc) - timedelta(days=30)
    batch: list[tuple[Report, Tags]] = []
    tags = Tags(project.id, "bench/suite")
    for number in range(runs):
        run = copy.deepcopy(template_run)
        run["run_id"] = f"{number:08d}-0000-7000-8000-000000000000"
        run["started"] = (start + timedelta(hours=number)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        run["environment"]["ci"]["commit"] = f"commit{number}"
        records = list(template_tests[: tests - 20] if number == runs - 1 else template_tests)
        for index in range(60):  # flaky
            if rng.random() < 0.2:
                records[index] = _failed(records[index], f"flaky{index}")
        if number >= runs - 10:
            for index in range(100, 105):  # broken
                records[index] = _failed(records[index], "broken")
        if number >= runs - 5:
            for index in range(200, 210):  # slower
                records[index] = {**records[index], "duration_ms": records[index]["duration_ms"] * 3 + 50}
        batch.append((Report(run, records), tags))
        if len(batch) == 10:
            store.write_reports(batch)
            batch = []
            print(f"\r  filling: {number + 1}/{runs} runs", end="", file=sys.stderr, flush=True)
    if batch:
        store.write_reports(batch)
    print(file=sys.stderr)
    store.close()
    return token


def _failed(record: dict[str, Any], fingerprint: str) -> dict[str, Any]:
    return {
        **record,
        "status": "failed",
        "when": "call",
        "failure": {"type": "AssertionError", "message": "assert 0", "fingerprint": fingerprint},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--tests", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    figures: dict[str, Any] = {"results": args.runs * args.tests}
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        print(f"storing {args.runs * args.tests:,} results ...", file=sys.stderr)
        token = fill(data_dir, args.runs, args.tests)
        settings = ServerSettings.in_dir(data_dir, run_worker=False, rate_limit=0)
        with TestClient(create_app(settings)) as client:
            headers = {"Authorization": f"Bearer {token}"}
            print(f"{'finding':<12} {'median s':>9} {'max s':>7}  found")
            for kind in ("flaky", "regressions", "lost", "failures", "slow"):
                times, body = [], None
                for _ in range(args.repeat):
                    began = time.perf_counter()
                    answer = client.get(f"/api/v1/findings/{kind}", params={"project": "bench/suite"}, headers=headers)
                    times.append(time.perf_counter() - began)
                    assert answer.status_code == 200, answer.text
                    body = answer.json()
                assert body is not None
                found = {key: len(value) for key, value in body.items() if isinstance(value, list)}
                figures[kind] = {"median_s": statistics.median(times), "max_s": max(times), "found": found}
                verdict = "" if max(times) <= TARGET_S else f"  over {TARGET_S:.0f} s"
                print(f"{kind:<12} {statistics.median(times):9.3f} {max(times):7.3f}  {found}{verdict}")
    worst = max(v["max_s"] for k, v in figures.items() if isinstance(v, dict))
    print(f"slowest: {worst:.3f} s (target {TARGET_S:.0f} s: {'met' if worst <= TARGET_S else 'MISSED'})")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
