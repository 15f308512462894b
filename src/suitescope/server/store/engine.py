"""One SQLAlchemy engine per store URL, set up for what the store does on each database.

SQLite: WAL (readers never wait for the writer), `synchronous=NORMAL` (a commit survives a crash of the
process; the queue, which must also survive the machine, uses FULL in its own file), a busy timeout instead of
"database is locked" errors, foreign keys on, and a page cache large enough for the indexes.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

# cache_size: 64 MiB of pages (SQLite's default is 2 MiB), so the indexes' hot pages stay in memory.
PRAGMAS = ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", "cache_size=-65536")


def make_engine(url: str, busy_timeout_ms: int = 10_000) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    engine = create_engine(url, poolclass=NullPool if parsed.database in (None, "", ":memory:") else None)

    def pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        for pragma in (
            "journal_mode=WAL",
            "synchronous=NORMAL",
            f"busy_timeout={busy_timeout_ms}",
            "foreign_keys=ON",
            "cache_size=-65536",
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    event.listen(engine, "connect", pragmas)
    return engine
