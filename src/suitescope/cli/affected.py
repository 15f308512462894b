"""`suitescope affected`: the tests a change can affect, from the newest run's per-test coverage map."""

from __future__ import annotations

import json
from pathlib import Path

import click

from suitescope.coverage.affected import Change, diff_since, parse_diff, select
from suitescope.coverage.testmap import all_lines, latest_map
from suitescope.schema.codec import read_ndjson
from suitescope.schema.records import NOT_ATTEMPTS


def run_tests(map_file: Path) -> set[str]:
    """The tests of the run the map belongs to (`<run_id>.ndjson` beside it): a test that ran but has no map
    entry is selected too."""
    run_file = map_file.with_suffix(".ndjson")
    if not run_file.exists():
        return set()
    records = read_ndjson(run_file).records
    return {r["id"] for r in records if r["kind"] == "test" and r["when"] not in NOT_ATTEMPTS}


@click.command()
@click.option("--since", "rev", metavar="REV", help="compare the work tree with this git revision (e.g. main).")
@click.option(
    "--diff",
    "diff_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="or read a unified diff (`git diff --unified=0`) from FILE.",
)
@click.option(
    "--map",
    "map_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="the map to use (default: the newest .testmap in .telemetry).",
)
@click.option("--explain", is_flag=True, help="say why each test is selected.")
@click.option("--json", "as_json", is_flag=True, help="print {test: reason} as JSON.")
def affected(rev: str | None, diff_file: Path | None, map_file: Path | None, explain: bool, as_json: bool) -> None:
    """List the tests that a change can affect: those whose recorded lines it touches, those whose test file it
    changes, those of the mapped run that the map has no lines for, and every test when a non-Python file or a
    conftest.py changed.

    The map comes from a run recorded with `pytest --suitescope --suitescope-cov=SOURCE --suitescope-cov-map`.
    Run only these with `pytest --suitescope-affected=REV`.
    """
    if (rev is None) == (diff_file is None):
        raise click.UsageError("give one of --since REV or --diff FILE")
    map_file = map_file or latest_map(Path(".telemetry"))
    if map_file is None:
        raise click.ClickException(
            "no .testmap in .telemetry: record one with `pytest --suitescope --suitescope-cov=SOURCE "
            "--suitescope-cov-map`, or pass --map FILE"
        )
    try:
        text = diff_file.read_text(encoding="utf-8") if diff_file else diff_since(Path("."), str(rev))
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    change: Change = parse_diff(text)
    coverage_map = all_lines(map_file)
    selection = select(sorted({*coverage_map, *run_tests(map_file)}), coverage_map, change)
    if as_json:
        click.echo(json.dumps(selection.reasons, indent=2, sort_keys=True))
        return
    for test in selection.tests:
        click.echo(f"{test}  # {selection.reasons[test]}" if explain else test)
