"""Findings and tables kept until their project changes. Flaky, regression and lost-test findings read the
histories of up to 200 runs (seconds with thousands of failing tests), the tests table a GROUP BY over the
latest runs; a dashboard shows the same figures to everyone until the project stores or drops a run.

So each server process computes an entry once, at its first view, and keeps it with the project's stamp (its
run count and last arrival). When the stamp moves, the next view still answers at once with the entry it has,
marked stale, while one background thread computes the new one (stale-while-revalidate): no page waits on a
recomputation after the first, and a project's change costs one computation per entry, not one per view."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection, func, select

from suitescope.server.store import Store
from suitescope.server.store.tables import runs

log = logging.getLogger("suitescope.server")
T = TypeVar("T")


@dataclass(frozen=True)
class Cached(Generic[T]):
    value: T
    stale: bool  # the project changed since: a newer value is being computed


class FindingsCache:
    def __init__(self, size: int = 256) -> None:
        self._size = size
        self._entries: OrderedDict[tuple[Hashable, ...], tuple[Any, Any]] = OrderedDict()  # key -> (stamp, value)
        self._refreshing: dict[tuple[Hashable, ...], threading.Thread] = {}
        self._lock = threading.Lock()

    def get(
        self,
        store: Store,
        conn: Connection,
        project_id: int,
        params: tuple[Hashable, ...],
        compute: Callable[[Connection], T],
    ) -> Cached[T]:
        """The entry for these parameters: computed now only the first time; when the project has changed
        since, the entry as it was, and a background recomputation."""
        stamp = tuple(
            conn.execute(
                select(func.count(), func.max(runs.c.received_at)).where(runs.c.project_id == project_id)
            ).one()
        )
        key = (project_id, *params)
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
        if entry is None:
            value = compute(conn)
            self._put(key, stamp, value)
            return Cached(value, False)
        if entry[0] != stamp:
            self._refresh(store, key, stamp, compute)
            return Cached(entry[1], True)
        return Cached(entry[1], False)

    def _put(self, key: tuple[Hashable, ...], stamp: Any, value: Any) -> None:
        with self._lock:
            self._entries[key] = (stamp, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)

    def _refresh(
        self, store: Store, key: tuple[Hashable, ...], stamp: Any, compute: Callable[[Connection], Any]
    ) -> None:
        def run() -> None:
            try:
                with store.read() as conn:
                    self._put(key, stamp, compute(conn))
            except Exception:  # the stale entry stays; the next view tries again
                log.exception("recomputing findings %r failed", key)
            finally:
                with self._lock:
                    self._refreshing.pop(key, None)

        with self._lock:
            if key in self._refreshing:
                return
            thread = threading.Thread(target=run, name="suitescope-findings", daemon=True)
            self._refreshing[key] = thread
        thread.start()

    def settle(self, timeout: float = 120.0) -> None:
        """Wait for the recomputations under way (tests, benchmarks, shutdown)."""
        with self._lock:
            threads = list(self._refreshing.values())
        for thread in threads:
            thread.join(timeout)
