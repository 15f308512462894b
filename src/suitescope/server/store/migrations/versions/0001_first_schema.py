"""the first schema: projects, tokens, runs, tests, results, queries, network, annotations, rollups

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-23 02:45:57.270194
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "network",
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("test_id", sa.String(length=32), nullable=False),
        sa.Column("started_at", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("scheme", sa.Text(), nullable=False),
        sa.Column("host", sa.Text(), nullable=True),
        sa.Column("port", sa.Integer(), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("loopback", sa.Boolean(), nullable=False),
        sa.Column("phase", sa.Text(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
    )
    with op.batch_alter_table("network", schema=None) as batch_op:
        batch_op.create_index("network_result", ["run_id", "seq"], unique=False)
        batch_op.create_index("network_test", ["test_id", "started_at"], unique=False)

    op.create_table(
        "projects",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("webhook_secret", sa.String(length=100), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "queries",
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("test_id", sa.String(length=32), nullable=False),
        sa.Column("started_at", sa.String(length=32), nullable=False),
        sa.Column("fingerprint", sa.Text(), nullable=False),
        sa.Column("sql", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("phase", sa.Text(), nullable=False),
        sa.Column("database", sa.Text(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("total_ms", sa.Float(), nullable=False),
    )
    with op.batch_alter_table("queries", schema=None) as batch_op:
        batch_op.create_index("queries_result", ["run_id", "seq"], unique=False)
        batch_op.create_index("queries_test", ["test_id", "started_at"], unique=False)

    op.create_table(
        "results",
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("test_id", sa.String(length=32), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.String(length=32), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("final", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("phase", sa.String(length=16), nullable=True),
        sa.Column("duration_ms", sa.Float(), nullable=False),
        sa.Column("duration_bucket", sa.Integer(), nullable=False),
        sa.Column("setup_ms", sa.Float(), nullable=True),
        sa.Column("call_ms", sa.Float(), nullable=True),
        sa.Column("teardown_ms", sa.Float(), nullable=True),
        sa.Column("worker", sa.Text(), nullable=True),
        sa.Column("assertions", sa.Integer(), nullable=True),
        sa.Column("db_queries", sa.Integer(), nullable=True),
        sa.Column("db_ms", sa.Float(), nullable=True),
        sa.Column("n_plus_one", sa.Integer(), nullable=True),
        sa.Column("net_calls", sa.Integer(), nullable=True),
        sa.Column("net_external", sa.Integer(), nullable=True),
        sa.Column("rss_peak_kb", sa.BigInteger(), nullable=True),
        sa.Column("rss_growth_kb", sa.BigInteger(), nullable=True),
        sa.Column("cpu_ms", sa.Float(), nullable=True),
        sa.Column("failure_type", sa.Text(), nullable=True),
        sa.Column("failure_message", sa.Text(), nullable=True),
        sa.Column("fingerprint", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("extra", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("run_id", "seq"),
    )
    with op.batch_alter_table("results", schema=None) as batch_op:
        batch_op.create_index(
            "results_project_fingerprint",
            ["project_id", "fingerprint"],
            unique=False,
            sqlite_where=sa.text("fingerprint IS NOT NULL"),
            postgresql_where=sa.text("fingerprint IS NOT NULL"),
        )
        batch_op.create_index("results_test_started", ["test_id", "started_at"], unique=False)

    op.create_table(
        "rollup_durations",
        sa.Column("subject", sa.String(length=40), nullable=False),
        sa.Column("period", sa.String(length=10), nullable=False),
        sa.Column("bucket", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("subject", "period", "bucket"),
    )
    op.create_table(
        "rollup_state",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "rollups",
        sa.Column("subject", sa.String(length=40), nullable=False),
        sa.Column("period", sa.String(length=10), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("runs", sa.Integer(), nullable=False),
        sa.Column("passed", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("error", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("xfailed", sa.Integer(), nullable=False),
        sa.Column("xpassed", sa.Integer(), nullable=False),
        sa.Column("duration_ms", sa.Float(), nullable=False),
        sa.Column("duration_max_ms", sa.Float(), nullable=False),
        sa.Column("tests", sa.BigInteger(), nullable=False),
        sa.Column("assertions", sa.BigInteger(), nullable=False),
        sa.Column("db_queries", sa.BigInteger(), nullable=False),
        sa.Column("rss_peak_kb", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("subject", "period"),
    )
    with op.batch_alter_table("rollups", schema=None) as batch_op:
        batch_op.create_index("rollups_project_period", ["project_id", "period"], unique=False)

    op.create_table(
        "annotations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("version", sa.Text(), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("dedupe_key", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("project_id", "dedupe_key", name="annotations_dedupe"),
    )
    with op.batch_alter_table("annotations", schema=None) as batch_op:
        batch_op.create_index("annotations_project_at", ["project_id", "at"], unique=False)

    op.create_table(
        "runs",
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("received_at", sa.String(length=32), nullable=False),
        sa.Column("started_at", sa.String(length=32), nullable=False),
        sa.Column("finished_at", sa.String(length=32), nullable=True),
        sa.Column("duration_ms", sa.Float(), nullable=True),
        sa.Column("tests_duration_ms", sa.Float(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("exit_status", sa.Integer(), nullable=True),
        sa.Column("branch", sa.Text(), nullable=True),
        sa.Column("commit_sha", sa.Text(), nullable=True),
        sa.Column("environment", sa.Text(), nullable=False),
        sa.Column("tests", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("passed", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("error", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("xfailed", sa.Integer(), nullable=False),
        sa.Column("xpassed", sa.Integer(), nullable=False),
        sa.Column("reruns", sa.Integer(), nullable=False),
        sa.Column("collection_errors", sa.Integer(), nullable=False),
        sa.Column("tests_expected", sa.Integer(), nullable=True),
        sa.Column("assertions", sa.Integer(), nullable=True),
        sa.Column("db_queries", sa.BigInteger(), nullable=True),
        sa.Column("peak_rss_kb", sa.BigInteger(), nullable=True),
        sa.Column("coverage_pct", sa.Float(), nullable=True),
        sa.Column("python_version", sa.Text(), nullable=True),
        sa.Column("python_impl", sa.Text(), nullable=True),
        sa.Column("framework", sa.Text(), nullable=True),
        sa.Column("framework_version", sa.Text(), nullable=True),
        sa.Column("os", sa.Text(), nullable=True),
        sa.Column("arch", sa.Text(), nullable=True),
        sa.Column("ci", sa.Text(), nullable=True),
        sa.Column("record", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
        ),
        sa.PrimaryKeyConstraint("run_id"),
    )
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.create_index("runs_project_branch_started", ["project_id", "branch", "started_at"], unique=False)
        batch_op.create_index("runs_project_started", ["project_id", "started_at"], unique=False)
        batch_op.create_index("runs_started", ["started_at"], unique=False)

    op.create_table(
        "tests",
        sa.Column("test_id", sa.String(length=32), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("nodeid", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("class", sa.Text(), nullable=True),
        sa.Column("module", sa.Text(), nullable=True),
        sa.Column("file", sa.Text(), nullable=True),
        sa.Column("first_seen", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
        ),
        sa.PrimaryKeyConstraint("test_id"),
    )
    with op.batch_alter_table("tests", schema=None) as batch_op:
        batch_op.create_index("tests_project", ["project_id"], unique=False)

    op.create_table(
        "tokens",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=True),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("last_used_at", sa.String(length=32), nullable=True),
        sa.Column("revoked_at", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )


def downgrade() -> None:
    op.drop_table("tokens")
    with op.batch_alter_table("tests", schema=None) as batch_op:
        batch_op.drop_index("tests_project")

    op.drop_table("tests")
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.drop_index("runs_started")
        batch_op.drop_index("runs_project_started")
        batch_op.drop_index("runs_project_branch_started")

    op.drop_table("runs")
    with op.batch_alter_table("annotations", schema=None) as batch_op:
        batch_op.drop_index("annotations_project_at")

    op.drop_table("annotations")
    with op.batch_alter_table("rollups", schema=None) as batch_op:
        batch_op.drop_index("rollups_project_period")

    op.drop_table("rollups")
    op.drop_table("rollup_state")
    op.drop_table("rollup_durations")
    with op.batch_alter_table("results", schema=None) as batch_op:
        batch_op.drop_index("results_test_started")
        batch_op.drop_index(
            "results_project_fingerprint",
            sqlite_where=sa.text("fingerprint IS NOT NULL"),
            postgresql_where=sa.text("fingerprint IS NOT NULL"),
        )

    op.drop_table("results")
    with op.batch_alter_table("queries", schema=None) as batch_op:
        batch_op.drop_index("queries_test")
        batch_op.drop_index("queries_result")

    op.drop_table("queries")
    op.drop_table("projects")
    with op.batch_alter_table("network", schema=None) as batch_op:
        batch_op.drop_index("network_test")
        batch_op.drop_index("network_result")

    op.drop_table("network")
