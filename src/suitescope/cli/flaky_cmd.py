"""`suitescope flaky`: the flaky list of the local runs, for a quarantine file, a script or pytest's command line."""

from __future__ import annotations

import json
from pathlib import Path

import click

from suitescope.analysis.runs import load_runs
from suitescope.cli.findings import findings_data
from suitescope.schema.codec import SchemaVersionError


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--format",
    "form",
    type=click.Choice(["ids", "json", "pytest-args"]),
    default="ids",
    show_default=True,
    help="ids: one test a line (a --suitescope-quarantine file); json: the findings with evidence; "
    "pytest-args: --deselect options that leave them out.",
)
def flaky(paths: tuple[Path, ...], form: str) -> None:
    """List the flaky tests of the runs in PATHS (default: .telemetry), as `report --flaky` finds them.

    \\b
    suitescope flaky > quarantine.txt && pytest --suitescope-quarantine=quarantine.txt
    pytest $(suitescope flaky --format pytest-args)
    """
    try:
        loaded = load_runs(paths or (Path(".telemetry"),))
    except (FileNotFoundError, SchemaVersionError) as exc:
        raise click.ClickException(str(exc)) from None
    found = findings_data(loaded, flaky=True, lost=False)
    if form == "json":
        click.echo(json.dumps({"flaky": found["flaky"]}, indent=2))
        return
    for item in found["flaky"]:
        click.echo(item["test"] if form == "ids" else f"--deselect={item['test']}")
