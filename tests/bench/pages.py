"""Dashboard pages with millions of results stored: the server time of every page, over HTTP to
`suitescope serve` on 127.0.0.1 with the SQLite store (the same store as tests/bench/reads.py: RUNS runs of
TESTS tests over 90 days, a few failures in every run, the days before today folded).

Each page is requested REQUESTS times after one warm-up request, its parameters rotating (ten runs, ten tests,
every sort of the tests table). The findings pages (flaky, regressions, lost, and the overview's flaky list)
are computed at the first view after a project changes and kept until the next change (server/findcache.py):
their warm-up time is printed apart as the "first view" figure. Target: p95 <= 150 ms for every page.

    python tests/bench/pages.py [--runs 1000] [--tests 5000] [--requests 30] [--data-dir DIR] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a script from a checkout

import httpx

from suitescope.server.store.writes import test_id
from tests.bench.ingest import start
from tests.bench.latency import figures_of, line, worst
from tests.bench.reads import PROJECT, fill

TARGET_MS = 150.0
SORTS = ("slowest", "flakiest", "failing", "queries", "memory", "network", "name")


def pages(run_ids: list[str], tests: int) -> dict[str, list[str]]:
    some_runs = run_ids[-1 :: -max(1, len(run_ids) // 10)][:10]
    some_tests = [test_id(PROJECT, f"tests/test_mod.py::test_{i}") for i in range(0, tests, max(1, tests // 10))]
    return {
        "home": ["/"],
        "overview": [f"/p/{PROJECT}"],
        "overview, 365 days": [f"/p/{PROJECT}?days=365"],
        "overview, a branch": [f"/p/{PROJECT}?branch=feature"],
        "tests (30 runs, each sort)": [f"/p/{PROJECT}/tests?sort={s}" for s in SORTS],
        "tests, filtered": [f"/p/{PROJECT}/tests?contains=test_12&has=failures"],
        "tests, 100 runs": [f"/p/{PROJECT}/tests?runs=100"],
        "test detail": [f"/tests/{t}" for t in some_tests],
        "run detail": [f"/runs/{r}" for r in some_runs],
        "failures": [f"/p/{PROJECT}/failures"],
        "flaky": [f"/p/{PROJECT}/flaky"],
        "regressions": [f"/p/{PROJECT}/regressions"],
        "lost": [f"/p/{PROJECT}/lost"],
        "environments, ecosystem": ["/environments?by=python_version", "/environments?by=os&days=365"],
        "environments, project": [f"/environments?project={PROJECT}&by=python_version"],
    }


def measure(client: httpx.Client, paths: list[str], requests: int) -> tuple[float, list[float]]:
    """(the first request's time, the times of the next `requests`), in ms."""
    times = []
    for number in range(requests + 1):
        path = paths[number % len(paths)]
        began = time.perf_counter()
        answer = client.get(path)
        times.append((time.perf_counter() - began) * 1000)
        assert answer.status_code == 200, f"{path}: {answer.status_code} {answer.text[:300]}"
    return times[0], sorted(times[1:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--tests", type=int, default=5000)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--data-dir", type=Path, help="keep the filled store here, and reuse it when it exists")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = args.data_dir or Path(tmp)
        data_dir.mkdir(parents=True, exist_ok=True)
        saved = data_dir / "bench-pages.json"
        if saved.exists():
            token, run_ids = json.loads(saved.read_text())
        else:
            print(f"storing {args.runs * args.tests:,} results ...", file=sys.stderr)
            token, run_ids = fill(data_dir, args.runs, args.tests)
            saved.write_text(json.dumps([token, run_ids]))
        url, procs = start(data_dir, "embedded")
        figures: dict[str, Any] = {"results": args.runs * args.tests}
        try:
            cookies = {"suitescope_token": token}
            with httpx.Client(base_url=url, cookies=cookies, timeout=120) as client:
                print(f"{'page':<28} {'first ms':>9} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
                for name, paths in pages(run_ids, args.tests).items():
                    first, times = measure(client, paths, args.requests)
                    figures[name] = {"first_ms": first, **figures_of(times)}
                    print(line(name, figures[name], TARGET_MS, 28))
        finally:
            for proc in procs:
                proc.terminate()
                proc.wait()
    print(worst(figures, TARGET_MS))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
