"""`suitescope serve`, `suitescope worker` and `suitescope migrate`: run the server and keep its store current."""

from __future__ import annotations

import dataclasses
import signal
import threading
from typing import TYPE_CHECKING, Any

import click

from suitescope.cli.server_options import server_options

if TYPE_CHECKING:
    from suitescope.server.settings import ServerSettings


@click.command()
@server_options
@click.option("--host", default="127.0.0.1", show_default=True, help="address to listen on (0.0.0.0: every one).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="port to listen on.")
@click.option(
    "--no-worker", is_flag=True, help="API only: run `suitescope worker` and one `suitescope maintain` beside it."
)
@click.option(
    "--retention-days", default=90.0, show_default=True, type=click.FloatRange(min=1), help="days raw results are kept."
)
@click.option(
    "--failure-retention-days",
    default=365.0,
    show_default=True,
    type=click.FloatRange(min=1),
    help="days failed results and flaky evidence are kept.",
)
@click.option(
    "--rate-limit",
    default=1200,
    show_default=True,
    type=click.IntRange(min=0),
    help="requests a minute per token (0: none).",
)
@click.option(
    "--max-body-mb", default=32, show_default=True, type=click.IntRange(min=1), help="largest request body, as sent."
)
@click.option(
    "--log-level", default="info", show_default=True, type=click.Choice(["debug", "info", "warning", "error"])
)
def serve(
    settings: ServerSettings,
    host: str,
    port: int,
    no_worker: bool,
    retention_days: float,
    failure_retention_days: float,
    rate_limit: int,
    max_body_mb: int,
    log_level: str,
) -> None:
    """Run the server: ingest API, worker and retention in one process, on SQLite unless told otherwise.

    The store is migrated at start (a new data directory needs nothing else). Logs are JSON lines on stdout;
    /healthz and /metrics are for the operator, /docs is the API's reference.
    """
    import uvicorn

    from suitescope.server import logs
    from suitescope.server.app import create_app
    from suitescope.server.process import tune_gc

    settings = dataclasses.replace(
        settings,
        run_worker=not no_worker,
        rate_limit=rate_limit,
        retention=dataclasses.replace(settings.retention, days=retention_days, failure_days=failure_retention_days),
        limits=dataclasses.replace(settings.limits, max_body=max_body_mb * 1024 * 1024),
    )
    logs.configure(log_level)
    _migrate(settings, quiet=True)
    app = create_app(settings)
    tune_gc()
    uvicorn.run(app, host=host, port=port, log_config=None, access_log=True, timeout_graceful_shutdown=10)


@click.command()
@server_options
@click.option("--once", is_flag=True, help="process the jobs there are now, then exit.")
@click.option(
    "--concurrency",
    default=1,
    show_default=True,
    type=click.IntRange(1, 256),
    help="worker processes to run and keep running (one per core is a good start).",
)
def worker(settings: ServerSettings, once: bool, concurrency: int) -> None:
    """Run a worker: store the reports the API queued. Any number can run beside `serve --no-worker`, on any
    host that reaches the store and the queue. SIGTERM finishes the batch in hand, then exits."""
    from suitescope.server import logs

    logs.configure("info")
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):  # finish the job in hand, then stop
        signal.signal(sig, lambda *_: stop.set())
    if concurrency > 1 and not once:
        from suitescope.server.supervise import supervise

        raise SystemExit(supervise(concurrency, settings.database, settings.queue, stop))
    from suitescope.server.metrics import Metrics
    from suitescope.server.process import tune_gc
    from suitescope.server.queue import open_queue
    from suitescope.server.store import open_store
    from suitescope.server.worker import Worker

    store = open_store(settings.database)
    store.check()
    work = Worker(open_queue(settings.queue), store, Metrics(), settings.worker_policy)
    tune_gc()
    if once:
        click.echo(f"{work.drain()} jobs processed")
        return
    work.run(stop)


@click.command()
@server_options
@click.option("--once", is_flag=True, help="one sweep, then exit (for cron).")
@click.option(
    "--retention-days", default=90.0, show_default=True, type=click.FloatRange(min=1), help="days raw results are kept."
)
@click.option(
    "--failure-retention-days",
    default=365.0,
    show_default=True,
    type=click.FloatRange(min=1),
    help="days failed results and flaky evidence are kept.",
)
@click.option(
    "--every", default=3600.0, show_default=True, type=click.FloatRange(min=10), help="seconds between sweeps."
)
def maintain(
    settings: ServerSettings, once: bool, retention_days: float, failure_retention_days: float, every: float
) -> None:
    """Fold finished days into rollups and apply retention, as `serve` does beside its worker. A layout of
    `serve --no-worker` and `suitescope worker` processes needs one of these running somewhere."""
    from suitescope.server import logs, maintenance
    from suitescope.server.store import open_store

    logs.configure("info")
    store = open_store(settings.database)
    store.check()
    retention = dataclasses.replace(settings.retention, days=retention_days, failure_days=failure_retention_days)
    if once:
        deleted = maintenance.sweep(store, retention)
        click.echo(
            f"removed {deleted.results} results, {deleted.queries} queries, {deleted.network} network rows"
            f" ({len(deleted.partitions)} partitions); folded {deleted.days_folded} days into months"
        )
        return
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    maintenance.run(store, retention, every, stop)


@click.command()
@server_options
def migrate(settings: ServerSettings) -> None:
    """Create the store's tables, or bring them to this version's schema (safe to run again)."""
    _migrate(settings, quiet=False)


def _migrate(settings: ServerSettings, quiet: bool) -> None:
    from suitescope.server.store import open_store
    from suitescope.server.store.migrate import StoreVersionError

    store = open_store(settings.database)
    try:
        before, after = store.migrate()
    except StoreVersionError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        store.close()
    if not quiet or before != after:
        click.echo(f"store {_safe_url(settings.database)}: schema {before or 'empty'} -> {after}", err=quiet)


def _safe_url(url: str) -> Any:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
