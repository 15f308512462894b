"""The `suitescope` click group. Each command lives in its own module; this file only names them."""

from __future__ import annotations

import click

from suitescope import __version__
from suitescope.cli.affected import affected
from suitescope.cli.bench import bench
from suitescope.cli.coverage_cmd import coverage
from suitescope.cli.flaky_cmd import flaky
from suitescope.cli.queue_cmd import queue
from suitescope.cli.report import report
from suitescope.cli.send_cmd import preview, upload
from suitescope.cli.serve_cmd import maintain, migrate, serve, worker
from suitescope.cli.token_cmd import project, token


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="suitescope")
def cli() -> None:
    """Telemetry for test suites.

    Record a run with `pytest --suitescope` (files go to .telemetry/), then read it with `suitescope report`.
    """


cli.add_command(report)
cli.add_command(bench)
cli.add_command(affected)
cli.add_command(coverage)
cli.add_command(serve)
cli.add_command(worker)
cli.add_command(migrate)
cli.add_command(maintain)
cli.add_command(token)
cli.add_command(project)
cli.add_command(queue)
cli.add_command(preview)
cli.add_command(upload)
cli.add_command(flaky)
