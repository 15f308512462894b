"""The few statements that differ between SQLite and PostgreSQL, written once with each dialect's construct."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Connection, Float, Table, cast, func
from sqlalchemy.dialects import postgresql, sqlite


def total(expression: Any, floating: bool = False) -> Any:
    """SUM as an integer (or a float): PostgreSQL sums integers as NUMERIC, which Python reads as Decimal."""
    return cast(func.sum(expression), Float if floating else BigInteger)


def mean(expression: Any) -> Any:
    """AVG as a float: PostgreSQL averages integers as NUMERIC."""
    return cast(func.avg(expression), Float)


def _insert(conn: Connection, table: Table) -> Any:
    module = postgresql if conn.dialect.name == "postgresql" else sqlite
    return module.insert(table)


def insert_ignore(conn: Connection, table: Table) -> Any:
    """INSERT that leaves an existing row (same primary key) as it is."""
    return _insert(conn, table).on_conflict_do_nothing()


def bulk_insert(
    conn: Connection, table: Table, columns: list[str], rows: list[tuple[Any, ...]], ignore_existing: bool = False
) -> None:
    """INSERT many rows given as tuples in `columns` order, straight through the driver: no per-row work in
    Python beyond the driver's own (JSON columns take text already encoded). On PostgreSQL new rows go by
    COPY, its fastest way in; rows that may exist already (`ignore_existing`) by executemany with ON CONFLICT."""
    if not rows:
        return
    quote = conn.dialect.identifier_preparer.quote
    if conn.dialect.name == "postgresql" and not ignore_existing:
        names = ", ".join(quote(name) for name in columns)
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        with cursor.copy(f"COPY {quote(table.name)} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    sql = (
        f"INSERT INTO {quote(table.name)} ({', '.join(quote(name) for name in columns)}) "
        f"VALUES ({', '.join([mark] * len(columns))})"
    )
    if ignore_existing:
        sql += " ON CONFLICT DO NOTHING"
    conn.exec_driver_sql(sql, rows)


def upsert(
    conn: Connection,
    table: Table,
    keys: list[str],
    add: list[str],
    maximum: list[str],
    select: Any = None,
    replace: tuple[str, ...] = (),
) -> Any:
    """INSERT (of the rows given at execution, or `from_select(select)`) that, on a key already there, adds the
    `add` columns, keeps the larger of the `maximum` columns and takes the new `replace` ones: how rollups fold
    a run into a day or a month."""
    statement = _insert(conn, table)
    if select is not None:
        statement = statement.from_select([column.name for column in select.selected_columns], select)
    excluded = statement.excluded
    values: dict[str, Any] = {name: table.c[name] + excluded[name] for name in add}
    for name in maximum:
        # SQLite's two-argument max() is PostgreSQL's greatest().
        greatest = func.greatest if conn.dialect.name == "postgresql" else func.max
        values[name] = greatest(table.c[name], excluded[name])
    for name in replace:
        values[name] = excluded[name]
    return statement.on_conflict_do_update(index_elements=keys, set_=values)
