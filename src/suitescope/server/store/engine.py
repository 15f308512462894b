"""One SQLAlchemy engine per store URL, set up for what the store does on each database.

SQLite: WAL (readers never wait for the writer), `synchronous=NORMAL` (a commit survives a crash of the
process; the queue, which must also survive the machine, uses FULL in its own file), a busy timeout instead of
"database is locked" errors, foreign keys on, and a page cache large enough for the indexes.

Transactions on SQLite are begun by us, not by the sqlite3 module: it only begins one before an INSERT, UPDATE
or DELETE, so the SELECTs a transaction starts with (is this run stored? how far are days folded?) would each
read their own moment, and a decision made on them could be committed over a change it never saw. Here a
transaction begins before its first statement, and one that writes (`Store.begin`) begins IMMEDIATE: it takes
the write lock first, so what it reads cannot change under it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

# cache_size: 64 MiB of pages (SQLite's default is 2 MiB), so the indexes' hot pages stay in memory.
PRAGMAS = ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", "cache_size=-65536")
WRITER = "suitescope_writer"  # execution option of a connection that will write: BEGIN IMMEDIATE


def make_engine(url: str, busy_timeout_ms: int = 10_000) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        # A pool per process: the API's threads and the worker share up to 20 connections, checked before use
        # (a PostgreSQL restart costs one failed ping, not a failed request).
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10, pool_recycle=3600)
    engine = create_engine(url, poolclass=NullPool if parsed.database in (None, "", ":memory:") else None)

    def connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # the sqlite3 module begins nothing; `begin` below does
        cursor = dbapi_connection.cursor()
        for pragma in (*PRAGMAS, f"busy_timeout={busy_timeout_ms}"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    def begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(WRITER) else "BEGIN")

    event.listen(engine, "connect", connect)
    event.listen(engine, "begin", begin)
    return engine
