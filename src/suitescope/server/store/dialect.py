"""The few statements that differ between SQLite and PostgreSQL, written once with each dialect's construct."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Table, func
from sqlalchemy.dialects import postgresql, sqlite


def _insert(conn: Connection, table: Table) -> Any:
    module = postgresql if conn.dialect.name == "postgresql" else sqlite
    return module.insert(table)


def insert_ignore(conn: Connection, table: Table) -> Any:
    """INSERT that leaves an existing row (same primary key) as it is."""
    return _insert(conn, table).on_conflict_do_nothing()


def upsert(
    conn: Connection, table: Table, keys: list[str], add: list[str], maximum: list[str], select: Any = None
) -> Any:
    """INSERT (of the rows given at execution, or `from_select(select)`) that, on a key already there, adds the
    `add` columns and keeps the larger of the `maximum` columns: how rollups fold a run into a day or a month."""
    statement = _insert(conn, table)
    if select is not None:
        statement = statement.from_select([column.name for column in select.selected_columns], select)
    excluded = statement.excluded
    values: dict[str, Any] = {name: table.c[name] + excluded[name] for name in add}
    for name in maximum:
        # SQLite's two-argument max() is PostgreSQL's greatest().
        greatest = func.greatest if conn.dialect.name == "postgresql" else func.max
        values[name] = greatest(table.c[name], excluded[name])
    return statement.on_conflict_do_update(index_elements=keys, set_=values)
