"""`suitescope bench`: runs the benchmarks kept in the repository's tests/bench/ folder."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

import click

BENCHMARKS = {
    "overhead": "tests/bench/overhead.py",
    "instructions": "tests/bench/instructions.py",
    "queries": "tests/bench/queries.py",
    "connections": "tests/bench/connections.py",
    "runners": "tests/bench/runners.py",
    "coverage": "tests/bench/coverage_map.py",
    "ingest": "tests/bench/ingest.py",
    "reads": "tests/bench/reads.py",
    "analysis": "tests/bench/analysis.py",
    "pages": "tests/bench/pages.py",
    "ingest-pg": "tests/bench/ingest_pg.py",
}


@click.command(context_settings={"ignore_unknown_options": True})
@click.argument("name", type=click.Choice(sorted(BENCHMARKS)))
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@click.option(
    "--repo",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="checkout of suitescope that holds tests/bench/.",
)
def bench(name: str, args: tuple[str, ...], repo: Path) -> None:
    """Run benchmark NAME from a suitescope checkout; ARGS go to the benchmark (try `-- --help`).

    \b
    overhead     wall time and peak memory of plain pytest vs --suitescope, --junitxml and pytest-reportlog
    instructions the same variants in instructions executed (valgrind's callgrind): steady on a busy machine
    queries      per-query cost of the db instrument: 100,000 SQLite queries via Django and SQLAlchemy
    connections  per-connection cost of the net instrument: 2,000 loopback HTTP requests
    runners      python -m unittest and manage.py test against suitescope's unittest and Django runners
    coverage     per-test coverage map against coverage.py's per-test contexts: merge time, size, wall time
    ingest       the server: 1,000,000 results over HTTP into SQLite, against SQLite's own bulk insert
    reads        the server: every dashboard query's latency with 5,000,000 results stored
    analysis     the server: each finding (flaky, regressions, lost, failures) over 1,000,000 results
    pages        the dashboard: every page's server time with 5,000,000 results stored
    ingest-pg    the server at scale: PostgreSQL + Redis, 1, 2, 4 worker processes against raw COPY
    """
    script = repo / BENCHMARKS[name]
    if not script.is_file():
        raise click.UsageError(f"{script} not found: run this from a suitescope checkout, or pass --repo PATH")
    sys.argv = [str(script), *args]
    runpy.run_path(str(script), run_name="__main__")
