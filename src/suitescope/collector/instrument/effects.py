"""What one test attempt did besides passing or failing: its queries and connections, kept as counters.

Instruments report to the process-wide `TRACKER`; it adds each event to the `Effects` of the attempt that is
running, in the phase that is running. A test process runs one test at a time (pytest, xdist workers, unittest,
Django's parallel workers are all processes), so "the attempt that is running" is the right owner for work done
in any thread or asyncio task while it runs, including the threads of a live server and tasks of an event loop
created before the test (whose context variables would point at an earlier test). Events outside any attempt
(collection, session fixtures' teardown after the last test) are not recorded.

Nothing here stores a value a test used: queries are kept by their normalised shape, URLs without query string.
"""

from __future__ import annotations

import threading
from contextvars import ContextVar
from typing import Any

from suitescope.collector.instrument.options import Settings
from suitescope.collector.instrument.sql import shape
from suitescope.schema.records import DbQuery, DbSummary, NetworkCall, NPlusOne

QUERY_SHAPES_LIMIT = 200  # distinct query shapes kept per test; the rest are counted, not listed
CALLS_LIMIT = 100
PARAMS_LIMIT = 200  # characters of a parameter sample, when parameters are recorded at all

# True while a higher-level instrument (Django, SQLAlchemy, an HTTP client) is inside the call it records, so
# the driver or socket below it does not record the same work twice. A context variable, not a thread-local:
# asyncio tasks interleave on one thread.
INSIDE: ContextVar[bool] = ContextVar("suitescope_inside", default=False)


class Effects:
    """Counters of one test attempt, filled by instruments from any thread."""

    __slots__ = ("calls", "lock", "phase", "queries")

    def __init__(self) -> None:
        self.phase = "setup"
        self.queries: dict[tuple[str, str, str], list[Any]] = {}  # (phase, database, fingerprint) -> counters
        self.calls: dict[tuple[str, str, str | None, int | None, str | None], list[Any]] = {}  # -> counters
        self.lock = threading.Lock()

    def add_query(self, database: str, sql: str, seconds: float, params: object) -> None:
        found = shape(sql)
        key = (self.phase, database, found.fingerprint)
        with self.lock:
            entry = self.queries.get(key)
            if entry is None:
                sample = None if params is None else [str(params)[:PARAMS_LIMIT]]
                self.queries[key] = [1, seconds, found, sample]
            else:
                entry[0] += 1
                entry[1] += seconds

    def add_call(
        self, kind: str, scheme: str, host: str | None, port: int | None, url: str | None, loopback: bool | None
    ) -> None:
        """One connection (`url` None) or one HTTP request; `loopback` None when only a name is known."""
        key = (kind, scheme, host, port, url)
        with self.lock:
            entry = self.calls.get(key)
            if entry is None:
                self.calls[key] = [1, self.phase, loopback]
            else:
                entry[0] += 1

    def db_summary(self, n_plus_one: int) -> tuple[DbSummary, list[DbQuery]]:
        if not self.queries:  # most tests
            empty: DbSummary = {
                "count": 0,
                "duration_ms": 0.0,
                "phases": {"setup": 0, "call": 0, "teardown": 0},
                "n_plus_one": [],
                "shapes_dropped": 0,
            }
            return empty, []
        phases = {"setup": 0, "call": 0, "teardown": 0}
        by_shape: dict[str, list[Any]] = {}
        total = 0
        seconds = 0.0
        rows: list[DbQuery] = []
        for (phase, database, fingerprint), (count, spent, found, sample) in self.queries.items():
            total += count
            seconds += spent
            phases[phase] = phases.get(phase, 0) + count
            if found.kind == "SELECT" and not found.catalog:
                by_shape.setdefault(fingerprint, [0, found.sql])[0] += count
            rows.append(
                {
                    "sql": found.sql,
                    "fingerprint": fingerprint,
                    "kind": found.kind,
                    "phase": phase,
                    "database": database,
                    "count": count,
                    "total_duration_ms": round(spent * 1000, 3),
                    "params": sample,
                }
            )
        rows.sort(key=lambda row: (-row["count"], -row["total_duration_ms"]))
        findings: list[NPlusOne] = [
            {"fingerprint": fp, "sql": sql, "count": count}
            for fp, (count, sql) in sorted(by_shape.items(), key=lambda item: -item[1][0])
            if count >= n_plus_one
        ]
        summary: DbSummary = {
            "count": total,
            "duration_ms": round(seconds * 1000, 3),
            "phases": phases,
            "n_plus_one": findings,
            "shapes_dropped": max(0, len(rows) - QUERY_SHAPES_LIMIT),
        }
        return summary, rows[:QUERY_SHAPES_LIMIT]

    def network(self) -> list[NetworkCall]:
        """Calls by endpoint. A connection that carried HTTP requests is shown by its requests' URLs (with the
        connection's loopback verdict, which comes from the address really connected to)."""
        if not self.calls:
            return []
        http = {(host, port) for (kind, _, host, port, _) in self.calls if kind == "http"}
        connected = {(host, port): loop for (kind, _, host, port, _), (_, _, loop) in self.calls.items() if loop}
        calls: list[NetworkCall] = []
        for (kind, scheme, host, port, url), (count, phase, loopback) in self.calls.items():
            if kind == "socket" and (host, port) in http:
                continue
            if loopback is None:
                loopback = connected.get((host, port)) or is_loopback(host)
            calls.append(
                {
                    "kind": kind,
                    "scheme": scheme,
                    "host": host,
                    "port": port,
                    "url": url,
                    "loopback": bool(loopback),
                    "phase": phase,
                    "count": count,
                }
            )
        calls.sort(key=lambda call: -call["count"])
        return calls[:CALLS_LIMIT]


_loopback: dict[str | None, bool] = {}


def is_loopback(host: str | None) -> bool:
    """`localhost`, 127.0.0.0/8 and ::1 are loopback; a name is taken at its word (never resolved here)."""
    found = _loopback.get(host)
    if found is None:
        import ipaddress

        name = (host or "").strip("[]").lower()
        if name == "localhost" or name.endswith(".localhost"):
            found = True
        else:
            try:
                found = ipaddress.ip_address(name.split("%")[0]).is_loopback
            except ValueError:
                found = False
        if len(_loopback) < 4096:
            _loopback[host] = found
    return found


class Tracker:
    """The process-wide meeting point of instruments and the runner: which attempt is running, and settings."""

    def __init__(self) -> None:
        self.current: Effects | None = None
        self.settings = Settings()
        # Queries in flight through a higher-level instrument (Django, SQLAlchemy), so the driver below does not
        # count them twice. Process-wide, not per thread or context: aiosqlite runs the driver in a thread of its
        # own, and SQLAlchemy's async layer on another greenlet.
        self.db_depth = 0
        self._depth_lock = threading.Lock()

    def enter_db(self) -> None:
        with self._depth_lock:
            self.db_depth += 1

    def leave_db(self) -> None:
        with self._depth_lock:
            self.db_depth -= 1


TRACKER = Tracker()
