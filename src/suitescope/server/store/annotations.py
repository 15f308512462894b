"""Annotations: releases (from GitHub webhooks) and any other event (deploys, dependency bumps) drawn on every
time chart of their project. A re-delivered event (same project and key) is stored once."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from suitescope.server.store.dialect import insert_ignore
from suitescope.server.store.tables import annotation_table as table


def add_annotation(conn: Connection, project_id: int, values: dict[str, Any]) -> tuple[int, bool]:
    """Store one annotation; (its id, True) when new, (the existing one's id, False) when its key was seen."""
    # RETURNING, not rowcount: psycopg reports no count for an INSERT that SQLAlchemy gave a RETURNING clause.
    inserted = conn.execute(
        insert_ignore(conn, table).values(project_id=project_id, **values).returning(table.c.id)
    ).scalar_one_or_none()
    if inserted is not None:
        return int(inserted), True
    found = conn.execute(
        select(table.c.id).where(table.c.project_id == project_id, table.c.dedupe_key == values["dedupe_key"])
    ).scalar_one()
    return int(found), False


def list_annotations(conn: Connection, project_id: int, since: str | None, until: str | None) -> list[dict[str, Any]]:
    query = select(table).where(table.c.project_id == project_id)
    if since is not None:
        query = query.where(table.c.at >= since)
    if until is not None:
        query = query.where(table.c.at < until)
    return [dict(row._mapping) for row in conn.execute(query.order_by(table.c.at))]
