"""`suitescope coverage`: per-test coverage maps: merge them (and coverage.py data files with per-test
contexts) into one, and export a standard coverage.py data file."""

from __future__ import annotations

import tempfile
from pathlib import Path

import click

from suitescope.coverage.testmap import export_coverage, from_coverage_data, is_map, merge


@click.group()
def coverage() -> None:
    """Per-test coverage maps (recorded with `pytest --suitescope --suitescope-cov=SOURCE --suitescope-cov-map`)."""


@coverage.command("merge")
@click.argument("inputs", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True, help="the merged map.")
@click.option(
    "--export",
    "export",
    type=click.Path(dir_okay=False, path_type=Path),
    help="also write every mapped line as a standard coverage.py data file (for `coverage html`, `coverage xml`).",
)
@click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="the project root that paths are relative to.",
)
def merge_command(inputs: tuple[Path, ...], output: Path, export: Path | None, root: Path) -> None:
    """Merge INPUTS into one map: maps and segments of ours, and coverage.py data files recorded with per-test
    contexts (each context's test id is the part before a `|`)."""
    if output.exists():
        raise click.UsageError(f"{output} exists: merge into a new file")
    with tempfile.TemporaryDirectory(prefix="suitescope-merge-") as tmp:
        segments = []
        for number, path in enumerate(inputs):
            if is_map(path):
                segments.append(path)
                continue
            segment = Path(tmp) / f"converted.{number}.segment"
            try:
                contexts = from_coverage_data(path, segment, root)
            except Exception as exc:  # coverage.py's own errors say what is wrong with its file
                raise click.ClickException(
                    f"{path}: not a suitescope map nor a coverage.py data file ({exc})"
                ) from None
            click.echo(f"{path}: {contexts} contexts read", err=True)
            segments.append(segment)
        tests = merge(segments, output)
    click.echo(f"{output}: {tests} tests from {len(inputs)} inputs")
    if export is not None:
        files = export_coverage(output, export, root)
        click.echo(f"{export}: {files} files")
