"""`suitescope bench`: runs the benchmarks kept in the repository's tests/bench/ folder."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

import click

BENCHMARKS = {"overhead": "tests/bench/overhead.py"}


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
    overhead  wall time and peak memory of plain pytest vs --suitescope, --junitxml and pytest-reportlog
    """
    script = repo / BENCHMARKS[name]
    if not script.is_file():
        raise click.UsageError(f"{script} not found: run this from a suitescope checkout, or pass --repo PATH")
    sys.argv = [str(script), *args]
    runpy.run_path(str(script), run_name="__main__")
