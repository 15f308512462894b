"""Alembic migrations of the store, run in process: `suitescope migrate`, and `suitescope serve` at start.

A store at an older revision is upgraded by `migrate`; one at a revision this code does not know (written by a
newer suitescope) is refused with a message, never guessed at.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

MIGRATIONS = Path(__file__).with_name("migrations")


class StoreVersionError(RuntimeError):
    """The database's schema revision is not the one this suitescope writes."""


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head() -> str:
    revision = ScriptDirectory.from_config(_config()).get_current_head()
    assert revision is not None
    return revision


def current(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, target: str = "head") -> tuple[str | None, str]:
    """Bring the store to the newest revision (or to `target`, for tests of a migration); returns (revision
    before, revision after)."""
    before = current(engine)
    known = {script.revision for script in ScriptDirectory.from_config(_config()).walk_revisions()}
    if before is not None and before not in known:
        raise StoreVersionError(
            f"the store is at schema revision {before}, which this suitescope does not know: "
            "it was written by a newer version; upgrade suitescope"
        )
    config = _config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, target)
    return before, head() if target == "head" else target


def check(engine: Engine) -> None:
    """Refuse to work on a store that is not at the newest revision."""
    revision = current(engine)
    if revision != head():
        raise StoreVersionError(
            f"the store is at schema revision {revision or 'none (empty)'}, this suitescope needs {head()}: "
            "run `suitescope migrate --database URL`"
        )
