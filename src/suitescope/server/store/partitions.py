"""Monthly partitions of the raw tables on PostgreSQL, so that retention drops a month instead of deleting it
row by row (a DELETE of millions of rows bloats the table and the WAL; a DROP TABLE is instant).

`queries` and `network` are partitioned by the month of their run's start (`started_at`). `results` too, and
each month again by `kept`: failed results and flaky evidence (kept for --failure-retention-days) apart from
the rest (kept for --retention-days). Retention then drops `results_2026_08_raw` once August is past the raw
window and `results_2026_08` (with what it kept) once it is past the failure window, and the same months of
queries and network with the raw window. Rows of a month only partly past a window are still deleted by
rows (rollups.apply_retention); they are a month at most.

Partitions are made when a run of a new month is stored (`ensure_month`), under an advisory lock so that
workers storing the first runs of a month at the same time make it once. SQLite has no partitions: there,
both functions do nothing.
"""

from __future__ import annotations

import re

from sqlalchemy import Connection, text

TABLES = ("results", "queries", "network")
MONTH = re.compile(r"\d{4}-\d{2}")
NAME = re.compile(r"(results|queries|network)_(\d{4})_(\d{2})(_raw|_kept)?")
LOCK = 724_100_001  # pg_advisory_xact_lock key of partition maintenance


def next_month(month: str) -> str:
    year, number = int(month[:4]), int(month[5:7])
    return f"{year + number // 12:04d}-{number % 12 + 1:02d}"


def _name(table: str, month: str, part: str = "") -> str:
    return f"{table}_{month[:4]}_{month[5:7]}{part}"


def statements(month: str) -> list[str]:
    """The DDL that makes one month's partitions (idempotent)."""
    if not MONTH.fullmatch(month):
        raise ValueError(f"not a month: {month!r}")
    bounds = f"FOR VALUES FROM ('{month}') TO ('{next_month(month)}')"
    found = []
    for table in TABLES:
        by_kept = " PARTITION BY LIST (kept)" if table == "results" else ""
        found.append(f"CREATE TABLE IF NOT EXISTS {_name(table, month)} PARTITION OF {table} {bounds}{by_kept}")
    for part, value in (("_raw", "false"), ("_kept", "true")):
        month_table = _name("results", month)
        found.append(
            f"CREATE TABLE IF NOT EXISTS {_name('results', month, part)} PARTITION OF {month_table}"
            f" FOR VALUES IN ({value})"
        )
    return found


def ensure_month(conn: Connection, month: str) -> None:
    """Make the partitions of `month` ("2026-11") if they are missing (PostgreSQL; nothing on SQLite)."""
    if not MONTH.fullmatch(month):
        raise ValueError(f"not a month: {month!r}")
    if conn.dialect.name != "postgresql":
        return
    leaves = [_name("results", month, "_raw"), _name("results", month, "_kept")]
    leaves += [_name(table, month) for table in TABLES[1:]]
    # All of them: a run that arrives late, for a month whose raw partitions were dropped, makes them again
    # (the next retention drops them again).
    present = " AND ".join(f"to_regclass('{name}') IS NOT NULL" for name in leaves)
    if conn.exec_driver_sql(f"SELECT {present}").scalar():
        return
    conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK})
    for statement in statements(month):
        conn.exec_driver_sql(statement)


def drop_months(conn: Connection, raw_before: str, kept_before: str) -> dict[str, int]:
    """Drop the partitions wholly before the raw window's month (`raw_before`, "2026-08": raw rows of July
    and earlier) and, for what results kept, before `kept_before`. Returns the tables dropped, with the rows
    each held (counted once a month per table, when it goes: retention reports what it removed)."""
    if conn.dialect.name != "postgresql":
        return {}
    children = conn.exec_driver_sql(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
        " JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = ANY(%(names)s)",
        {"names": [*TABLES, *(f"results_{m}" for m in _result_months(conn))]},
    ).scalars()
    dropped: dict[str, int] = {}
    for name in sorted(set(children)):
        found = NAME.fullmatch(name)
        if found is None:
            continue
        table, month, part = found[1], f"{found[2]}-{found[3]}", found[4] or ""
        if table == "results" and not part:
            old = month < kept_before  # the month with what it kept
        elif table == "results" and part == "_kept":
            continue  # goes with its month
        else:
            old = month < raw_before
        if old and conn.exec_driver_sql(f"SELECT to_regclass('{name}')").scalar() is not None:
            dropped[name] = int(conn.exec_driver_sql(f"SELECT count(*) FROM {name}").scalar_one())
            conn.exec_driver_sql(f"DROP TABLE {name}")
    return dropped


def _result_months(conn: Connection) -> list[str]:
    rows = conn.exec_driver_sql(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
        " JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'results'"
    ).scalars()
    return [name.removeprefix("results_") for name in rows]
