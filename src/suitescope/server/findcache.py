"""Findings kept until their project changes. Computing flaky, regression or lost-test findings reads the
histories of up to 200 runs (0.4-0.8 s with 5,000 tests a run); a dashboard shows the same findings to everyone
until the project stores or drops a run, so each server process computes them once per change, not per view.

The key of an entry holds the project's run count and last arrival: a new run, a re-stored run or a run
removed by retention makes a new key, and the old entry ages out (least recently used first)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

from sqlalchemy import Connection, func, select

from suitescope.server.store.tables import runs


class FindingsCache:
    def __init__(self, size: int = 256) -> None:
        self._size = size
        self._entries: OrderedDict[tuple[Hashable, ...], Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, conn: Connection, project_id: int, params: tuple[Hashable, ...], compute: Callable[[], Any]) -> Any:
        """The findings for these parameters, computed now only if the project changed since the last time."""
        count, last = conn.execute(
            select(func.count(), func.max(runs.c.received_at)).where(runs.c.project_id == project_id)
        ).one()
        key = (project_id, count, last, *params)
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]
        value = compute()  # outside the lock: two first views compute twice rather than wait on each other
        with self._lock:
            self._entries[key] = value
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return value
