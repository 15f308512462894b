"""Options every server command shares (`--data-dir`, `--database`, `--queue`), and their settings."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from suitescope.server.settings import ServerSettings

F = TypeVar("F", bound=Callable[..., Any])


def server_options(func: F) -> F:
    @click.option(
        "--data-dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=Path("."),
        show_default=True,
        envvar="SUITESCOPE_DATA_DIR",
        help="where the embedded store (suitescope.db) and queue (suitescope-queue.db) live.",
    )
    @click.option(
        "--database", envvar="SUITESCOPE_DATABASE", help="store URL (default: sqlite:///DATA_DIR/suitescope.db)."
    )
    @click.option(
        "--queue", envvar="SUITESCOPE_QUEUE", help="queue URL (default: sqlite:///DATA_DIR/suitescope-queue.db)."
    )
    @functools.wraps(func)
    def wrapper(*args: Any, data_dir: Path, database: str | None, queue: str | None, **kwargs: Any) -> Any:
        return func(*args, settings=settings_for(data_dir, database, queue), **kwargs)

    return wrapper  # type: ignore[return-value]


def settings_for(data_dir: Path, database: str | None, queue: str | None, **extra: Any) -> ServerSettings:
    try:
        from suitescope.server.settings import ServerSettings
    except ImportError as exc:
        raise click.ClickException(
            f"the server needs the 'server' extra ({exc.name} is not installed): pip install 'suitescope[server]'"
        ) from None
    return ServerSettings.in_dir(data_dir, database, queue, **extra)
