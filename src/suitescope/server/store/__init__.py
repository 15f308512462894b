"""The store: one SQLAlchemy Core schema on SQLite (the embedded default) or PostgreSQL.

`open_store(url)` gives a `Store`; the verbs live in modules named for what they do (`accounts`, `writes`,
`reads`) and take a connection, so a caller can make several of them one transaction.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine

from suitescope.server.store import migrate
from suitescope.server.store.engine import WRITER, make_engine

if TYPE_CHECKING:  # writes.py imports rollups.py, which imports this package's modules
    from suitescope.server.reports import Report
    from suitescope.server.store.writes import Tags


KNOWN_TESTS_LIMIT = 1_000_000  # test ids remembered as stored; past it the cache starts again


class Store:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._known: set[str] = set()  # test ids this process saw committed: no identity row to send again

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A connection in a transaction that writes, committed at the end of the block (rolled back on an
        exception). On SQLite it holds the write lock from its first statement (engine.py says why)."""
        with self.engine.connect() as conn:
            conn = conn.execution_options(**{WRITER: True})
            with conn.begin():
                yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            yield conn

    def write_report(self, report: Report, tags: Tags) -> bool:
        """Store a report in one transaction; False when its run was already there."""
        return self.write_reports([(report, tags)])[0]

    def write_reports(self, reports: list[tuple[Report, Tags]]) -> list[bool]:
        """Store reports in one transaction (one commit for many runs); for each, False if already there."""
        from suitescope.server.store.writes import write_report

        written = []
        with self.begin() as conn:
            for report, tags in reports:
                written.append(write_report(conn, report, tags, self._known))
        if len(self._known) > KNOWN_TESTS_LIMIT:
            self._known.clear()
        for rows in written:  # only once committed: a rolled-back identity is not known
            if rows is not None:
                self._known.update(rows.identities)
        return [rows is not None for rows in written]

    def migrate(self) -> tuple[str | None, str]:
        return migrate.upgrade(self.engine)

    def check(self) -> None:
        migrate.check(self.engine)

    def close(self) -> None:
        self.engine.dispose()


def open_store(url: str) -> Store:
    """`sqlite:///path/suitescope.db` (the default) or `postgresql://user@host/db` (psycopg 3, pooled)."""
    for scheme in ("postgresql://", "postgres://"):  # SQLAlchemy would pick psycopg2 for these
        if url.startswith(scheme):
            url = "postgresql+psycopg://" + url.removeprefix(scheme)
    return Store(make_engine(url))
