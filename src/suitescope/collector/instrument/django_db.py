"""Django: every query of every connection of every alias, through Django's documented `execute_wrapper`.

The wrapper goes on each connection object as it connects (the `connection_created` signal), so connections
opened after the run started, and the per-thread connections of `TransactionTestCase` and `LiveServerTestCase`
threads, are all seen; connections that were open before are wrapped at install. It does not depend on `DEBUG`
and leaves `connection.queries` and `assertNumQueries` exactly as they were. It is put first in the list, so a
suite's own `with connection.execute_wrapper(...)` still removes its own wrapper when its block ends.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable
from typing import Any

from suitescope.collector.instrument.base import Instrument

UID = "suitescope-instrument"


class DjangoQueries(Instrument):
    name = "django"
    group = "db"

    def install(self) -> None:
        from django.db import connections
        from django.db.backends.signals import connection_created

        self._wrapped: list[weakref.ref[Any]] = []
        connection_created.connect(self._on_connect, weak=False, dispatch_uid=UID)
        for connection in connections.all(initialized_only=True):
            self.attach(connection)
        self.on = True

    def uninstall(self) -> None:
        from django.db.backends.signals import connection_created

        self.on = False
        connection_created.disconnect(dispatch_uid=UID)
        for ref in self._wrapped:
            connection = ref()
            if connection is not None and self.wrapper in connection.execute_wrappers:
                connection.execute_wrappers.remove(self.wrapper)
        self._wrapped.clear()

    def _on_connect(self, sender: object, connection: Any, **kwargs: object) -> None:
        if self.on:
            try:
                self.attach(connection)
            except Exception as exc:
                self.fail(exc)

    def attach(self, connection: Any) -> None:
        if self.wrapper not in connection.execute_wrappers:
            connection.execute_wrappers.insert(0, self.wrapper)
            self._wrapped.append(weakref.ref(connection))

    def wrapper(self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict[str, Any]) -> Any:
        tracker = self.tracker
        if not self.on or tracker.current is None:
            return execute(sql, params, many, context)
        tracker.enter_db()
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            elapsed = time.perf_counter() - start
            tracker.leave_db()
            effects = tracker.current
            if effects is not None and self.on:
                try:
                    alias = context["connection"].alias
                    effects.add_query(alias, sql, elapsed, params if tracker.settings.record_params else None)
                except Exception as exc:
                    self.fail(exc)
