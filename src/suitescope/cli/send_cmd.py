"""`suitescope preview` and `suitescope upload`: see exactly what would leave the machine, and send it."""

from __future__ import annotations

import gzip
import os
import time
from pathlib import Path

import click

from suitescope.collector.privacy import PrivacyPolicy, Redactor, user_key
from suitescope.collector.send_settings import ANONYMITIES
from suitescope.collector.sending import payload_of
from suitescope.sinks.http import post_run
from suitescope.sinks.spool import Spool, default_spool_dir

ANONYMITY = click.option(
    "--anonymity",
    type=click.Choice(ANONYMITIES),
    default="anonymous",
    show_default=True,
    help="how the payload names the project: as recorded, a keyed pseudonym, or the vendor and a pseudonym.",
)
REDACT = click.option("--redact", multiple=True, metavar="REGEX", help="one more pattern to redact (repeatable).")


def _policy(anonymity: str, redact: tuple[str, ...]) -> PrivacyPolicy:
    return PrivacyPolicy(anonymity, user_key(), Redactor(root=str(Path.cwd()), extra=redact))  # type: ignore[arg-type]


def _latest(directory: Path) -> Path:
    files = sorted(p for p in directory.glob("*.ndjson") if not p.name.endswith(".payload.ndjson"))
    if not files:
        raise click.ClickException(f"no run files in {directory}: record one with `pytest --suitescope`")
    return files[-1]


@click.command()
@click.argument("run", required=False, type=click.Path(path_type=Path))
@ANONYMITY
@REDACT
def preview(run: Path | None, anonymity: str, redact: tuple[str, ...]) -> None:
    """Print exactly the payload that would be sent for RUN (a run file, or a directory: its newest run;
    default: the newest in .telemetry), anonymised and redacted. Nothing is sent."""
    path = _latest(run or Path(".telemetry")) if run is None or run.is_dir() else run
    if not path.exists():
        raise click.ClickException(f"{path}: no such run file")
    _run_id, body, _tests = payload_of(path, _policy(anonymity, redact))
    click.echo(gzip.decompress(body).decode(), nl=False)


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--url", envvar="SUITESCOPE_URL", required=True, help="the suitescope server (or SUITESCOPE_URL).")
@click.option(
    "--spool-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="where unsent runs wait (default: the user's cache).",
)
@click.option("--timeout", default=30.0, show_default=True, help="seconds to try each report.")
@ANONYMITY
@REDACT
def upload(
    paths: tuple[Path, ...], url: str, spool_dir: Path | None, timeout: float, anonymity: str, redact: tuple[str, ...]
) -> None:
    """Send the runs waiting in the spool (what earlier runs could not send) and the run files PATHS (files,
    or directories of them), anonymised and redacted as `preview` shows. A run the server already has is
    stored once. The token comes from SUITESCOPE_TOKEN."""
    token = os.environ.get("SUITESCOPE_TOKEN")
    if not token:
        raise click.UsageError("set SUITESCOPE_TOKEN to an ingest token (`suitescope token create ... --scope ingest`)")
    spool = Spool(spool_dir or default_spool_dir())
    jobs: list[tuple[str, bytes, Path | None]] = [(p.name.split(".")[0], p.read_bytes(), p) for p in spool.pending()]
    policy = _policy(anonymity, redact)
    for path in paths:
        for file in sorted(path.glob("*.ndjson")) if path.is_dir() else [path]:
            if not file.name.endswith(".payload.ndjson"):
                run_id, body, _tests = payload_of(file, policy)
                jobs.append((run_id, body, None))
    if not jobs:
        click.echo("nothing to upload: the spool is empty and no run file was named")
        return
    failed = 0
    for number, (run_id, body, spooled) in enumerate(jobs, start=1):
        delivery = post_run(url, token, body, run_id, time.monotonic() + timeout)
        if delivery.accepted and spooled is not None:
            spool.remove(spooled)
        failed += not delivery.accepted
        click.echo(
            f"[{number}/{len(jobs)}] {run_id}: {'sent' if delivery.accepted else 'not sent, ' + delivery.reason}"
        )
    if spool.dropped:
        click.echo(f"({spool.dropped} older spooled runs were dropped to keep the spool within its size)")
    if failed:
        raise click.ClickException(f"{failed} of {len(jobs)} runs not sent")
