"""SQLAlchemy 1.4 and 2.x: every statement of every engine, sync and async, through its engine events.

Listening on the `Engine` class reaches every engine, those created before the run included, and an
`AsyncEngine`'s statements, which run on its sync engine. The start time travels on the execution context.
"""

from __future__ import annotations

import time
from typing import Any

from suitescope.collector.instrument.base import Instrument

START = "_suitescope_start"


class SqlAlchemyQueries(Instrument):
    name = "sqlalchemy"
    group = "db"

    def install(self) -> None:
        from sqlalchemy import event
        from sqlalchemy.engine import Engine

        event.listen(Engine, "before_cursor_execute", self.before)
        event.listen(Engine, "after_cursor_execute", self.after)
        event.listen(Engine, "handle_error", self.error)
        self.on = True

    def uninstall(self) -> None:
        from sqlalchemy import event
        from sqlalchemy.engine import Engine

        self.on = False
        for name, listener in (("before_cursor_execute", self.before), ("after_cursor_execute", self.after)):
            event.remove(Engine, name, listener)
        event.remove(Engine, "handle_error", self.error)

    def before(self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        if self.on and self.tracker.current is not None and context is not None:
            self.tracker.enter_db()
            setattr(context, START, time.perf_counter())

    def after(self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        self.record(conn, statement, parameters, context)

    def error(self, exception_context: Any) -> None:
        context = exception_context.execution_context
        statement = exception_context.statement
        if context is not None and statement is not None:
            self.record(exception_context.connection, statement, exception_context.parameters, context)

    def record(self, conn: Any, statement: str, parameters: Any, context: Any) -> None:
        start = context.__dict__.pop(START, None) if context is not None else None
        if start is None:
            return
        elapsed = time.perf_counter() - start
        self.tracker.leave_db()
        effects = self.tracker.current
        if effects is not None and self.on:
            try:
                database = f"sqlalchemy:{conn.engine.dialect.name}" if conn is not None else "sqlalchemy"
                params = parameters if self.tracker.settings.record_params else None
                effects.add_query(database, statement, elapsed, params)
            except Exception as exc:
                self.fail(exc)
