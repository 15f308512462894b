"""End-to-end ingest: runs totalling N test results sent over HTTP to `suitescope serve` on 127.0.0.1 until the
worker has stored every one in the SQLite store, against the raw ceiling measured in the same run: the same
result rows inserted into the same table with `executemany` in one transaction, nothing else.

Target: end-to-end results/s >= 40% of the raw ceiling. Two layouts are measured: `embedded` (one process, API
and worker threads, what `suitescope serve` runs by default) and `split` (`serve --no-worker` beside one
`suitescope worker` process: the API validates while the worker stores, on two cores).

    python tests/bench/ingest.py [--results 1000000] [--per-run 5000] [--layouts embedded,split] [--json FILE]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a script from a checkout

import httpx

from suitescope.server.reports import parse_report
from suitescope.server.store import open_store
from suitescope.server.store.accounts import create_project, create_token
from suitescope.server.store.engine import PRAGMAS
from suitescope.server.store.writes import RESULT_COLUMNS, result_row, test_id
from tests.server.factory import make_report, ndjson

TARGET = 0.40
STATUSES = ["passed"] * 95 + ["failed"] * 2 + ["skipped"] * 3  # a suite as suites are: mostly green


def template(per_run: int) -> tuple[str, bytes]:
    """One run's NDJSON; every run sent is this one under another run_id (the same suite, run again)."""
    run, tests = make_report(
        [STATUSES[i % len(STATUSES)] for i in range(per_run)], names=[f"test_{i}" for i in range(per_run)]
    )
    return run["run_id"], ndjson(run, tests)


def bodies(count: int, per_run: int) -> list[tuple[str, bytes]]:
    """(run_id, gzip body) of each run to send, made before the clock starts."""
    old_id, text = template(per_run)
    made = []
    for index in range(count):
        run_id = f"{old_id[:-12]}{index:012d}"
        made.append((run_id, gzip.compress(text.replace(old_id.encode(), run_id.encode()), compresslevel=6)))
    return made


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def setup(data_dir: Path) -> str:
    store = open_store(f"sqlite:///{data_dir / 'suitescope.db'}")
    store.migrate()
    with store.begin() as conn:
        token = create_token(conn, "ingest", create_project(conn, "bench/suite").id)
    store.close()
    return token


def start(data_dir: Path, layout: str, *extra: str) -> tuple[str, list[subprocess.Popen[bytes]]]:
    """`serve` (and, for `split`, a worker) on the data directory; `extra` options go to both (a store URL)."""
    port = free_port()
    base = [sys.executable, "-m", "suitescope.cli.main"]
    common = ["--data-dir", str(data_dir), *extra]
    serve = [*base, "serve", *common, "--port", str(port), "--rate-limit", "0", "--log-level", "warning"]
    procs = [subprocess.Popen([*serve, *(["--no-worker"] if layout == "split" else [])], stdout=subprocess.DEVNULL)]
    if layout == "split":
        procs.append(subprocess.Popen([*base, "worker", *common], stdout=subprocess.DEVNULL))
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=1):
                return url, procs
        except OSError:
            time.sleep(0.1)
    raise SystemExit("serve did not start")


def queue_empty(url: str) -> bool:
    with urllib.request.urlopen(f"{url}/healthz", timeout=10) as answer:
        return json.loads(answer.read())["queue"] == {}


def end_to_end(layout: str, runs: list[tuple[str, bytes]], per_run: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        token = setup(data_dir)
        url, procs = start(data_dir, layout)
        headers = {
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/x-ndjson",
            "Content-Encoding": "gzip",
        }
        try:
            began = time.perf_counter()
            with httpx.Client(timeout=300) as client:
                for number, (_run_id, body) in enumerate(runs, start=1):
                    answer = client.post(f"{url}/api/v1/runs", content=body, headers=headers)
                    assert answer.status_code == 202, answer.text
                    print(f"\r  {layout}: {number}/{len(runs)} runs accepted", end="", file=sys.stderr, flush=True)
            accepted = time.perf_counter() - began
            while not queue_empty(url):
                time.sleep(0.05)
            elapsed = time.perf_counter() - began
            print(file=sys.stderr)
        finally:
            for proc in procs:
                proc.terminate()
                proc.wait()
        with sqlite3.connect(data_dir / "suitescope.db") as conn:
            stored = conn.execute("SELECT count(*) FROM results").fetchone()[0]
        assert stored == len(runs) * per_run, f"{stored} results stored, {len(runs) * per_run} sent"
    return {"seconds": elapsed, "results_per_s": stored / elapsed, "accepted_per_s": stored / accepted}


STARTED = "2026-11-22T12:00:00.000Z"  # the runs' start in the raw ceilings' rows


def result_rows(runs: list[tuple[str, bytes]]) -> list[Any]:
    """The results rows the worker writes for these runs, as the store's bulk insert takes them."""
    rows = []
    for run_id, body in runs:
        report = parse_report(gzip.decompress(body), "application/x-ndjson")
        rows.extend(
            result_row(record, run_id, seq, test_id("bench/suite", record["id"]), 1, STARTED)
            for seq, record in enumerate(report.tests)
        )
    return rows


def raw_ceiling(runs: list[tuple[str, bytes]]) -> dict[str, float]:
    """The rows the worker writes for these runs, built before the clock starts, inserted in one transaction."""
    rows = result_rows(runs)
    with tempfile.TemporaryDirectory() as tmp:
        setup(Path(tmp))
        conn = sqlite3.connect(Path(tmp) / "suitescope.db")
        for pragma in PRAGMAS:  # the store's own settings: the same database, only the Python around it removed
            conn.execute(f"PRAGMA {pragma}")
        sql = f"INSERT INTO results ({', '.join(RESULT_COLUMNS)}) VALUES ({', '.join('?' * len(RESULT_COLUMNS))})"
        began = time.perf_counter()
        with conn:
            conn.executemany(sql, rows)
        elapsed = time.perf_counter() - began
        conn.close()
    return {"seconds": elapsed, "results_per_s": len(rows) / elapsed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--results", type=int, default=1_000_000)
    parser.add_argument("--per-run", type=int, default=5000)
    parser.add_argument("--layouts", default="embedded,split")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    count = args.results // args.per_run
    print(f"making {count} runs of {args.per_run} results ...", file=sys.stderr)
    runs = bodies(count, args.per_run)
    print("raw ceiling ...", file=sys.stderr)
    ceiling = raw_ceiling(runs)
    figures: dict[str, Any] = {"results": count * args.per_run, "raw": ceiling, "cpus": os.cpu_count()}
    print(f"raw executemany: {ceiling['results_per_s']:,.0f} results/s ({ceiling['seconds']:.1f} s)")
    for layout in args.layouts.split(","):
        got = end_to_end(layout, runs, args.per_run)
        ratio = got["results_per_s"] / ceiling["results_per_s"]
        figures[layout] = {**got, "ratio": ratio}
        print(
            f"{layout:>9}: {got['results_per_s']:,.0f} results/s end to end ({got['seconds']:.1f} s), "
            f"{ratio:.0%} of raw (target {TARGET:.0%}: {'met' if ratio >= TARGET else 'MISSED'}); "
            f"API accepted {got['accepted_per_s']:,.0f}/s"
        )
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
