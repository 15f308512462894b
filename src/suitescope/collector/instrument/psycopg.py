"""psycopg 3 used directly: it has no query hook, so its cursor classes' `execute` and `executemany` are
wrapped for the run and restored at the end (a thin wrapper; the cursor subclasses psycopg and Django derive from
these classes inherit it). Connections that Django or SQLAlchemy open are theirs (see `sqlite3.py`): their
`connect` is wrapped too, to note them, and their cursors are not recorded here.
"""

from __future__ import annotations

import sys
import time
import weakref
from collections.abc import Callable
from typing import Any

from suitescope.collector.instrument.base import Instrument
from suitescope.collector.instrument.sqlite3 import opened_by_owner

DATABASE = "psycopg"


def query_text(query: Any, cursor: Any) -> str:
    if isinstance(query, str):
        return query
    if isinstance(query, bytes | bytearray | memoryview):
        return bytes(query).decode(errors="replace")
    return str(query.as_string(cursor.connection))  # psycopg.sql.Composable


class PsycopgQueries(Instrument):
    name = "psycopg"
    group = "db"

    def install(self) -> None:
        import psycopg

        self.patched: list[tuple[Any, str, Any]] = []
        self.owned: weakref.WeakSet[Any] = weakref.WeakSet()
        for connection_cls in (psycopg.Connection, psycopg.AsyncConnection):
            original_connect = connection_cls.__dict__["connect"]
            asynchronous = connection_cls is psycopg.AsyncConnection
            wrapper = self.wrap_connect_async if asynchronous else self.wrap_connect
            connection_cls.connect = classmethod(wrapper(original_connect.__func__))  # type: ignore[method-assign,assignment]
            self.patched.append((connection_cls, "connect", original_connect))
        # `psycopg.connect` is `Connection.connect` bound at import: point it at the wrapped one too.
        self.patched.append((psycopg, "connect", psycopg.connect))
        psycopg.connect = psycopg.Connection.connect
        for cls in (psycopg.Cursor, psycopg.AsyncCursor, psycopg.ServerCursor, psycopg.AsyncServerCursor):
            for name in ("execute", "executemany"):
                original = cls.__dict__.get(name)
                if original is not None:
                    wrapped = self.wrap_async(original) if cls.__name__.startswith("Async") else self.wrap(original)
                    setattr(cls, name, wrapped)
                    self.patched.append((cls, name, original))
        self.on = True

    def uninstall(self) -> None:
        self.on = False
        for cls, name, original in reversed(self.patched):
            setattr(cls, name, original)
        self.patched.clear()

    def active(self, cursor: Any) -> bool:
        return (
            self.on
            and self.tracker.current is not None
            and not self.tracker.db_depth
            and cursor.connection not in self.owned
        )

    def wrap_connect(self, connect: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(cls: type, *args: Any, **kwargs: Any) -> Any:
            connection = connect(cls, *args, **kwargs)
            if opened_by_owner(sys._getframe(1)):
                self.owned.add(connection)
            return connection

        return wrapper

    def wrap_connect_async(self, connect: Callable[..., Any]) -> Callable[..., Any]:
        async def wrapper(cls: type, *args: Any, **kwargs: Any) -> Any:
            connection = await connect(cls, *args, **kwargs)
            if opened_by_owner(sys._getframe(1)):
                self.owned.add(connection)
            return connection

        return wrapper

    def wrap(self, method: Callable[..., Any]) -> Callable[..., Any]:
        def execute(cursor: Any, query: Any, params: Any = None, *args: Any, **kwargs: Any) -> Any:
            if not self.active(cursor):
                return method(cursor, query, params, *args, **kwargs)
            start = time.perf_counter()
            try:
                return method(cursor, query, params, *args, **kwargs)
            finally:
                self.record(cursor, query, time.perf_counter() - start, params)

        execute.__wrapped__ = method  # type: ignore[attr-defined]
        return execute

    def wrap_async(self, method: Callable[..., Any]) -> Callable[..., Any]:
        async def execute(cursor: Any, query: Any, params: Any = None, *args: Any, **kwargs: Any) -> Any:
            if not self.active(cursor):
                return await method(cursor, query, params, *args, **kwargs)
            start = time.perf_counter()
            try:
                return await method(cursor, query, params, *args, **kwargs)
            finally:
                self.record(cursor, query, time.perf_counter() - start, params)

        execute.__wrapped__ = method  # type: ignore[attr-defined]
        return execute

    def record(self, cursor: Any, query: Any, seconds: float, params: Any) -> None:
        effects = self.tracker.current
        if effects is not None and self.on:
            try:
                sample = params if self.tracker.settings.record_params else None
                effects.add_query(DATABASE, query_text(query, cursor), seconds, sample)
            except Exception as exc:
                self.fail(exc)
