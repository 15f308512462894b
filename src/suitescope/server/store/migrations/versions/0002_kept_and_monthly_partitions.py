"""results.kept (evidence kept past the raw window); on PostgreSQL, results, queries and network partitioned by
month (results again by kept), so that retention drops months (store/partitions.py)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 06:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from suitescope.server.store.partitions import TABLES, ensure_month

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

KEPT = "status IN ('failed', 'error') OR attempt > 1 OR NOT final"
# The indexes of each table, as 0001 made them, made again on the partitioned table (each partition gets its own).
INDEXES = {
    "results": [
        "CREATE INDEX results_test_started ON results (test_id, started_at)",
        "CREATE INDEX results_project_fingerprint ON results (project_id, fingerprint) WHERE fingerprint IS NOT NULL",
    ],
    "queries": [
        "CREATE INDEX queries_result ON queries (run_id, seq)",
        "CREATE INDEX queries_test ON queries (test_id, started_at)",
    ],
    "network": [
        "CREATE INDEX network_result ON network (run_id, seq)",
        "CREATE INDEX network_test ON network (test_id, started_at)",
    ],
}


def upgrade() -> None:
    with op.batch_alter_table("results") as batch_op:
        batch_op.add_column(sa.Column("kept", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.execute(f"UPDATE results SET kept = ({KEPT})")
    if op.get_bind().dialect.name == "postgresql":
        _partition()


def _partition() -> None:
    """Each table renamed aside, made again partitioned, its rows copied into their months, the old one dropped."""
    bind = op.get_bind()
    for table in TABLES:
        for statement in INDEXES[table]:
            op.execute(f"DROP INDEX {statement.split()[2]}")
        op.execute(f"ALTER TABLE {table} RENAME TO {table}_unpartitioned")
        key = ", PRIMARY KEY (run_id, seq, started_at, kept)" if table == "results" else ""
        op.execute(
            f"CREATE TABLE {table} (LIKE {table}_unpartitioned INCLUDING DEFAULTS{key}) PARTITION BY RANGE (started_at)"
        )
        for statement in INDEXES[table]:
            op.execute(statement)
    months = {
        row[0]
        for table in TABLES
        for row in bind.exec_driver_sql(f"SELECT DISTINCT substr(started_at, 1, 7) FROM {table}_unpartitioned")
    }
    for month in sorted(months):
        ensure_month(bind, month)
    for table in TABLES:
        op.execute(f"INSERT INTO {table} SELECT * FROM {table}_unpartitioned")
        op.execute(f"DROP TABLE {table}_unpartitioned")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"ALTER TABLE {table} RENAME TO {table}_partitioned")
            key = ", PRIMARY KEY (run_id, seq)" if table == "results" else ""
            op.execute(f"CREATE TABLE {table} (LIKE {table}_partitioned INCLUDING DEFAULTS{key})")
            op.execute(f"INSERT INTO {table} SELECT * FROM {table}_partitioned")
            op.execute(f"DROP TABLE {table}_partitioned CASCADE")
            for statement in INDEXES[table]:
                op.execute(statement)
    with op.batch_alter_table("results") as batch_op:
        batch_op.drop_column("kept")
