"""Tokens and projects as the API checks them on every write, kept for a few seconds per process.

Two reasons: a busy ingest API would otherwise read the tokens table on every request, and, more important,
reports keep being accepted into the queue while the store is down (a PostgreSQL restart, a failover): when
the store cannot be read, the last answer for a token or project is used however old it is (stale-if-error).
A revoked token therefore stops working within `ttl_s` seconds (30 by default), not at once. Unknown tokens
are never kept, so guessing tokens cannot fill the memory; the cache holds at most `size` entries."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TypeVar

from sqlalchemy import Connection
from sqlalchemy.exc import InterfaceError, OperationalError

from suitescope.server.store import Store
from suitescope.server.store.accounts import Principal, Project, find_project, hash_token, principal, project_by_id

T = TypeVar("T")


class AccountCache:
    def __init__(self, ttl_s: float = 30.0, size: int = 10_000) -> None:
        self.ttl_s = ttl_s
        self._size = size
        self._entries: OrderedDict[Hashable, tuple[float, object]] = OrderedDict()
        self._lock = threading.Lock()

    def principal(self, store: Store, token: str) -> Principal | None:
        return self._get(store, ("token", hash_token(token)), lambda conn: principal(conn, token))

    def project(self, store: Store, name: str | None, project_id: int | None) -> Project | None:
        if name is not None:
            return self._get(store, ("name", name), lambda conn: find_project(conn, name))
        return self._get(store, ("id", project_id), lambda conn: project_by_id(conn, project_id or 0))

    def _get(self, store: Store, key: Hashable, load: Callable[[Connection], T | None]) -> T | None:
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get(key)
        if entry is not None and now - entry[0] < self.ttl_s:
            return entry[1]  # type: ignore[return-value]
        try:
            with store.read() as conn:
                value = load(conn)
        except (OperationalError, InterfaceError):
            if entry is not None:
                return entry[1]  # type: ignore[return-value]
            raise
        if value is not None:
            with self._lock:
                self._entries[key] = (now, value)
                self._entries.move_to_end(key)
                while len(self._entries) > self._size:
                    self._entries.popitem(last=False)
        return value
