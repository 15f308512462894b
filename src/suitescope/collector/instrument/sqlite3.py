"""`sqlite3` used directly: the standard library has no query hook with timings, so a thin wrapper.

`sqlite3.connect` is replaced, for the run, by a function that passes our `Connection` subclass as `factory`
when the caller gave none; its cursors time `execute`, `executemany` and `executescript`. Connections that
Django or SQLAlchemy open are theirs and left plain: their instruments record what their users run, and the
statements the frameworks run for themselves (Django's `SELECT QUOTE(?)` when it logs a query, pragmas on
connect) are not the suite's queries. Queries already in flight through those instruments (`Tracker.db_depth`,
e.g. SQLAlchemy's async engine over aiosqlite) are not counted again. `uninstall` puts `connect` back; connections made
meanwhile keep working, and stop recording.
"""

from __future__ import annotations

import sqlite3
import sys
import time
from collections.abc import Callable
from typing import Any

from suitescope.collector.instrument.base import Instrument
from suitescope.collector.instrument.effects import TRACKER

DATABASE = "sqlite3"
OWNERS = ("django.", "sqlalchemy.")  # modules whose connections their own instruments record

_instrument: SqliteQueries | None = None  # the installed instrument, read by the wrapper classes


def _timed(method: Callable[..., Any], cursor: Any, sql: Any, *args: Any) -> Any:
    instrument = _instrument
    if instrument is None or not instrument.on or TRACKER.current is None or TRACKER.db_depth:
        return method(cursor, sql, *args)
    start = time.perf_counter()
    try:
        return method(cursor, sql, *args)
    finally:
        instrument.record(sql, time.perf_counter() - start, args[0] if args else None)


class Cursor(sqlite3.Cursor):
    def execute(self, sql: str, parameters: Any = (), /) -> Any:
        return _timed(sqlite3.Cursor.execute, self, sql, parameters)

    def executemany(self, sql: str, parameters: Any, /) -> Any:
        return _timed(sqlite3.Cursor.executemany, self, sql, parameters)

    def executescript(self, script: str, /) -> Any:
        return _timed(sqlite3.Cursor.executescript, self, script)


class Connection(sqlite3.Connection):
    def cursor(self, factory: Any = Cursor) -> Any:
        return super().cursor(factory)

    # sqlite3.Connection's shortcuts make a plain cursor in C: route them through ours.
    def execute(self, sql: str, parameters: Any = (), /) -> Any:
        return self.cursor().execute(sql, parameters)

    def executemany(self, sql: str, parameters: Any, /) -> Any:
        return self.cursor().executemany(sql, parameters)

    def executescript(self, script: str, /) -> Any:
        return self.cursor().executescript(script)


def opened_by_owner(frame: Any) -> bool:
    module = str(frame.f_globals.get("__name__", ""))
    return module.startswith(OWNERS)


class SqliteQueries(Instrument):
    name = "sqlite3"
    group = "db"

    def install(self) -> None:
        global _instrument
        import sqlite3.dbapi2 as dbapi2

        self.original = sqlite3.connect
        self.original_dbapi2 = dbapi2.connect
        original = self.original

        def connect(*args: Any, **kwargs: Any) -> Any:
            # factory is the 6th positional parameter; connect is rare enough to look at the caller's module.
            if "factory" not in kwargs and len(args) < 6 and self.on and not opened_by_owner(sys._getframe(1)):
                kwargs["factory"] = Connection
            return original(*args, **kwargs)

        sqlite3.connect = dbapi2.connect = connect
        _instrument = self
        self.on = True

    def uninstall(self) -> None:
        global _instrument
        import sqlite3.dbapi2 as dbapi2

        self.on = False
        sqlite3.connect = self.original
        dbapi2.connect = self.original_dbapi2
        _instrument = None

    def record(self, sql: Any, seconds: float, params: Any) -> None:
        effects = TRACKER.current
        if effects is not None and self.on:
            try:
                record_params = params if TRACKER.settings.record_params else None
                effects.add_query(DATABASE, str(sql), seconds, record_params)
            except Exception as exc:
                self.fail(exc)
