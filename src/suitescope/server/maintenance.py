"""The store's upkeep: fold the finished days' test results into rollups (one day per transaction, so a long
history never holds the write lock for long), then apply retention. `suitescope serve` runs it in a thread
beside its worker; a split layout (`serve --no-worker` and `suitescope worker`) runs `suitescope maintain`
once somewhere. Several at once are safe: a day's fold is serialised (rollups._fold_lock on PostgreSQL, the
single writer on SQLite) and retention deletes only what is already gone for the others."""

from __future__ import annotations

import logging
import threading

from suitescope.server.clock import days_ago
from suitescope.server.rollups import Deleted, Retention, apply_retention, fold_test_days
from suitescope.server.store import Store

log = logging.getLogger("suitescope.server")


def sweep(store: Store, retention: Retention, stop: threading.Event | None = None) -> Deleted:
    """One pass: every finished day folded, then what is past its window removed."""
    yesterday = days_ago(1)[:10]
    while stop is None or not stop.is_set():
        with store.begin() as conn:
            if not fold_test_days(conn, yesterday, max_days=1):
                break
    with store.begin() as conn:
        deleted = apply_retention(conn, retention)
    log.info("retention: %s", deleted)
    return deleted


def run(store: Store, retention: Retention, every_s: float, stop: threading.Event) -> None:
    """Sweep soon after start, then every `every_s` seconds, until `stop`; a failed sweep is logged and tried
    again at the next one (serving goes on)."""
    wait = min(10.0, every_s)
    while not stop.wait(wait):
        wait = every_s
        try:
            sweep(store, retention, stop)
        except Exception:
            log.exception("retention sweep failed")
