"""`suitescope queue`: look at the queue, re-queue dead-lettered jobs, or drop them."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from suitescope.cli.server_options import server_options

if TYPE_CHECKING:
    from suitescope.server.settings import ServerSettings


@click.group()
def queue() -> None:
    """Inspect the ingest queue and its dead-letter list."""


@queue.command("ls")
@server_options
@click.option("--dead", is_flag=True, help="only dead-lettered jobs (failed every attempt).")
@click.option("--limit", default=100, show_default=True)
def queue_ls(settings: ServerSettings, dead: bool, limit: int) -> None:
    """Jobs in the queue: id, run, state, attempts, last error."""
    found = _queue(settings).jobs("dead" if dead else None, limit)
    table = Table("id", "run_id", "state", "attempts", "queued", "last error")
    for job in found:
        queued = datetime.fromtimestamp(job.created_at, timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
        table.add_row(str(job.id), job.run_id, job.state, str(job.attempts), queued, Text(job.last_error or ""))
    Console().print(table if found else "the queue is empty" if not dead else "no dead-lettered jobs")


@queue.command("retry")
@server_options
@click.argument("job_ids", nargs=-1, type=int)
def queue_retry(settings: ServerSettings, job_ids: tuple[int, ...]) -> None:
    """Put dead-lettered jobs back in the queue (JOB_IDS, or all of them), their attempts reset."""
    count = _queue(settings).retry(list(job_ids) or None)
    click.echo(f"{count} job{'s' * (count != 1)} re-queued")


@queue.command("purge")
@server_options
@click.argument("job_ids", nargs=-1, type=int)
@click.option("--yes", is_flag=True, help="do not ask for confirmation.")
def queue_purge(settings: ServerSettings, job_ids: tuple[int, ...], yes: bool) -> None:
    """Delete dead-lettered jobs (JOB_IDS, or all of them): their reports are lost."""
    if not yes:
        click.confirm(f"delete {'jobs ' + ', '.join(map(str, job_ids)) if job_ids else 'every dead job'}?", abort=True)
    count = _queue(settings).purge(list(job_ids) or None)
    click.echo(f"{count} job{'s' * (count != 1)} deleted")


def _queue(settings: ServerSettings):  # type: ignore[no-untyped-def]
    from suitescope.server.queue import open_queue

    return open_queue(settings.queue)
