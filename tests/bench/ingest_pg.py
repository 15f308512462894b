"""Ingest at scale: PostgreSQL store, Redis Streams queue, `serve --no-worker` and `suitescope worker
--concurrency N` for N = 1, 2, 4, against PostgreSQL's raw COPY ceiling measured in the same run (the same
result rows copied into the same table in one transaction, nothing else).

For each N: a new database and queue; every run is sent over HTTP to the API first (its accept rate is
printed), then the N workers are started and timed until the queue is empty: the workers' storing rate,
apart from the API's. Needs PostgreSQL and Redis on 127.0.0.1 (trust auth for `postgres`).

    python tests/bench/ingest_pg.py [--results 1000000] [--per-run 5000] [--workers 1,2,4] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a script from a checkout

import httpx
import psycopg

from suitescope.server.store import open_store
from suitescope.server.store.accounts import create_project, create_token
from suitescope.server.store.partitions import ensure_month
from suitescope.server.store.writes import RESULT_COLUMNS
from tests.backends import postgres_database, redis_queue
from tests.bench.ingest import STARTED, bodies, result_rows
from tests.server.serving import ServeProcess


def prepare(database: str) -> str:
    store = open_store(database)
    store.migrate()
    with store.begin() as conn:
        token = create_token(conn, "ingest", create_project(conn, "bench/suite").id)
    store.close()
    return token


def raw_copy(runs: list[tuple[str, bytes]]) -> dict[str, float]:
    """The worker's result rows for these runs, built before the clock starts, copied in one transaction."""
    rows = result_rows(runs)
    with postgres_database() as database:
        prepare(database)
        store = open_store(database)
        with store.begin() as conn:
            ensure_month(conn, STARTED[:7])  # the month's partitions, as the worker makes them
        store.close()
        with psycopg.connect(database.replace("postgresql+psycopg://", "postgresql://")) as conn:
            began = time.perf_counter()
            with conn.cursor() as cursor, cursor.copy(f"COPY results ({', '.join(RESULT_COLUMNS)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            conn.commit()
            elapsed = time.perf_counter() - began
    return {"seconds": elapsed, "results_per_s": len(rows) / elapsed}


def queue_empty(url: str) -> bool:
    return httpx.get(f"{url}/healthz", timeout=30).json()["queue"] == {}


def with_workers(count: int, runs: list[tuple[str, bytes]], per_run: int) -> dict[str, float]:
    with ExitStack() as stack:
        database = stack.enter_context(postgres_database())
        queue = stack.enter_context(redis_queue())
        token = prepare(database)
        data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        api = ServeProcess(data_dir, "--no-worker", "--rate-limit", "0", "--database", database, "--queue", queue)
        stack.callback(api.stop)
        headers = {
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/x-ndjson",
            "Content-Encoding": "gzip",
        }
        began = time.perf_counter()
        with httpx.Client(timeout=300) as client:
            for number, (_run_id, body) in enumerate(runs, start=1):
                answer = client.post(f"{api.url}/api/v1/runs", content=body, headers=headers)
                assert answer.status_code == 202, answer.text
                print(f"\r  {count} workers: {number}/{len(runs)} runs accepted", end="", file=sys.stderr, flush=True)
        accepted = time.perf_counter() - began
        env = {**os.environ, "SUITESCOPE_DATABASE": database, "SUITESCOPE_QUEUE": queue}
        command = [sys.executable, "-m", "suitescope.cli.main", "worker", "--concurrency", str(count)]
        began = time.perf_counter()
        workers = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            while not queue_empty(api.url):
                time.sleep(0.2)
            stored_s = time.perf_counter() - began
        finally:
            workers.terminate()
            workers.wait()
        print(file=sys.stderr)
        with psycopg.connect(database.replace("postgresql+psycopg://", "postgresql://")) as conn:
            row = conn.execute("SELECT count(*) FROM results").fetchone()
        stored = int(row[0]) if row else 0
        assert stored == len(runs) * per_run, f"{stored} results stored, {len(runs) * per_run} sent"
    return {"stored_s": stored_s, "results_per_s": stored / stored_s, "accepted_per_s": stored / accepted}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--results", type=int, default=1_000_000)
    parser.add_argument("--per-run", type=int, default=5000)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    count = args.results // args.per_run
    print(f"making {count} runs of {args.per_run} results ...", file=sys.stderr)
    runs = bodies(count, args.per_run)
    ceiling = raw_copy(runs)
    figures: dict[str, Any] = {"results": count * args.per_run, "raw_copy": ceiling, "cpus": os.cpu_count()}
    print(f"raw COPY: {ceiling['results_per_s']:,.0f} results/s ({ceiling['seconds']:.1f} s)")
    for workers in (int(n) for n in args.workers.split(",")):
        got = with_workers(workers, runs, args.per_run)
        ratio = got["results_per_s"] / ceiling["results_per_s"]
        figures[f"workers_{workers}"] = {**got, "ratio": ratio}
        print(
            f"{workers} worker processes: {got['results_per_s']:,.0f} results/s stored ({got['stored_s']:.1f} s), "
            f"{ratio:.0%} of raw COPY; the API accepted {got['accepted_per_s']:,.0f} results/s"
        )
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
