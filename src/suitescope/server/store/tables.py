"""The store's one relational schema (SQLAlchemy Core), the same on SQLite and PostgreSQL.

Raw rows (`results`, `queries`, `network`) are kept for the retention window; `runs` are small and kept for
ever, so environment breakdowns never lose a run; `rollups` and `rollup_durations` hold the daily and monthly
aggregates that trends read, maintained as each run is stored, so deleting raw rows changes no trend.

Times are ISO 8601 strings in UTC (`2026-11-22T17:44:02.250Z`): they sort as text on both databases, and a
day (`2026-11-22`) or month (`2026-11`) is a prefix. Migrations (`migrations/versions/`) create these tables;
a test checks that the migrated database and this metadata agree.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)

metadata = MetaData()

projects = Table(
    "projects",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("public", Boolean, nullable=False, default=False),
    # A project named by a keyed hash (the collector's anonymous mode): counted in ecosystem views, never listed.
    Column("anonymous", Boolean, nullable=False, default=False),
    Column("created_at", String(32), nullable=False),
    # The shared secret GitHub signs this project's webhooks with (HMAC needs it as is, so it is not hashed).
    Column("webhook_secret", String(100), nullable=True),
)

tokens = Table(
    "tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("project_id", Integer, ForeignKey("projects.id"), nullable=True),  # None: an admin token
    Column("scope", String(16), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),  # SHA-256 of the token; the token is never kept
    Column("prefix", String(16), nullable=False),  # the first characters, so a listed token can be recognised
    Column("note", String(200), nullable=True),
    Column("created_at", String(32), nullable=False),
    Column("last_used_at", String(32), nullable=True),
    Column("revoked_at", String(32), nullable=True),
)

runs = Table(
    "runs",
    metadata,
    Column("run_id", String(64), primary_key=True),
    Column("project_id", Integer, ForeignKey("projects.id"), nullable=False),
    Column("source", String(16), nullable=False),  # "suitescope" or "junit"
    Column("received_at", String(32), nullable=False),
    Column("started_at", String(32), nullable=False),
    Column("finished_at", String(32), nullable=True),
    Column("duration_ms", Float, nullable=True),
    Column("tests_duration_ms", Float, nullable=False),
    Column("state", String(16), nullable=False),
    Column("exit_status", Integer, nullable=True),
    Column("branch", Text, nullable=True),
    Column("commit_sha", Text, nullable=True),
    Column("environment", Text, nullable=False),  # a label: given at ingest, else "ci" or "local"
    Column("tests", Integer, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("passed", Integer, nullable=False),
    Column("failed", Integer, nullable=False),
    Column("error", Integer, nullable=False),
    Column("skipped", Integer, nullable=False),
    Column("xfailed", Integer, nullable=False),
    Column("xpassed", Integer, nullable=False),
    Column("reruns", Integer, nullable=False),
    Column("collection_errors", Integer, nullable=False),
    Column("tests_expected", Integer, nullable=True),
    Column("assertions", Integer, nullable=True),
    Column("db_queries", BigInteger, nullable=True),
    Column("peak_rss_kb", BigInteger, nullable=True),
    Column("coverage_pct", Float, nullable=True),
    Column("python_version", Text, nullable=True),  # "3.12" (minor), the figure maintainers decide on
    Column("python_impl", Text, nullable=True),
    Column("framework", Text, nullable=True),
    Column("framework_version", Text, nullable=True),
    Column("os", Text, nullable=True),
    Column("arch", Text, nullable=True),
    Column("ci", Text, nullable=True),
    Column("record", JSON, nullable=False),  # the run record as received: nothing the columns drop is lost
    Index("runs_project_started", "project_id", "started_at"),
    Index("runs_project_branch_started", "project_id", "branch", "started_at"),
    Index("runs_started", "started_at"),
)

tests = Table(
    "tests",
    metadata,
    # Stable identity: a hash of project and test id, the same on every run and every store.
    Column("test_id", String(32), primary_key=True),
    Column("project_id", Integer, ForeignKey("projects.id"), nullable=False),
    Column("nodeid", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("class", Text, nullable=True),
    Column("module", Text, nullable=True),
    Column("file", Text, nullable=True),
    Column("first_seen", String(32), nullable=False),
    Index("tests_project", "project_id"),
)

results = Table(
    "results",
    metadata,
    Column("run_id", String(64), primary_key=True),
    Column("seq", Integer, primary_key=True),  # the record's place in its run: unique when ids repeat (subtests)
    Column("test_id", String(32), nullable=False),
    Column("project_id", Integer, nullable=False),
    Column("started_at", String(32), nullable=False),  # the run's start: what retention and history order by
    Column("attempt", Integer, nullable=False),
    Column("final", Boolean, nullable=False),
    Column("status", String(8), nullable=False),
    Column("phase", String(16), nullable=True),  # the record's `when`
    Column("duration_ms", Float, nullable=False),
    Column("duration_bucket", Integer, nullable=False),  # its log bucket (rollups.py), for the histograms
    Column("setup_ms", Float, nullable=True),
    Column("call_ms", Float, nullable=True),
    Column("teardown_ms", Float, nullable=True),
    Column("worker", Text, nullable=True),
    Column("assertions", Integer, nullable=True),
    Column("db_queries", Integer, nullable=True),
    Column("db_ms", Float, nullable=True),
    Column("n_plus_one", Integer, nullable=True),
    Column("net_calls", Integer, nullable=True),
    Column("net_external", Integer, nullable=True),
    Column("rss_peak_kb", BigInteger, nullable=True),
    Column("rss_growth_kb", BigInteger, nullable=True),
    Column("cpu_ms", Float, nullable=True),
    Column("failure_type", Text, nullable=True),
    Column("failure_message", Text, nullable=True),
    Column("fingerprint", Text, nullable=True),
    Column("reason", Text, nullable=True),
    Column("extra", JSON, nullable=True),  # params, markers, N+1 findings: shown, never filtered on
    # Failed, errored, retried or not final: evidence kept past the raw window (--failure-retention-days). On
    # PostgreSQL each month is partitioned by it, so retention drops the rest of a month (partitions.py).
    Column("kept", Boolean, nullable=False, server_default=false()),
    Index("results_test_started", "test_id", "started_at"),
    # Failures only (a few percent of rows): every index on this table costs each insert. Retention finds old
    # rows through their runs (runs_started), so no index on started_at alone.
    Index(
        "results_project_fingerprint",
        "project_id",
        "fingerprint",
        sqlite_where=text("fingerprint IS NOT NULL"),
        postgresql_where=text("fingerprint IS NOT NULL"),
    ),
)


def _result_key() -> list[Column[object]]:
    """The columns that tie a query or network row to its result (run_id, seq) and its test's history."""
    return [
        Column("run_id", String(64), nullable=False),
        Column("seq", Integer, nullable=False),
        Column("test_id", String(32), nullable=False),
        Column("started_at", String(32), nullable=False),
    ]


queries = Table(
    "queries",
    metadata,
    *_result_key(),
    Column("fingerprint", Text, nullable=False),
    Column("sql", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("phase", Text, nullable=False),
    Column("database", Text, nullable=False),
    Column("count", Integer, nullable=False),
    Column("total_ms", Float, nullable=False),
    Index("queries_result", "run_id", "seq"),
    Index("queries_test", "test_id", "started_at"),
)

network = Table(
    "network",
    metadata,
    *_result_key(),
    Column("kind", Text, nullable=False),
    Column("scheme", Text, nullable=False),
    Column("host", Text, nullable=True),
    Column("port", Integer, nullable=True),
    Column("url", Text, nullable=True),
    Column("loopback", Boolean, nullable=False),
    Column("phase", Text, nullable=False),
    Column("count", Integer, nullable=False),
    Index("network_result", "run_id", "seq"),
    Index("network_test", "test_id", "started_at"),
)

annotation_table = Table(  # not `annotations`: that name is taken by `from __future__ import annotations`
    "annotations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("project_id", Integer, ForeignKey("projects.id"), nullable=False),
    Column("at", String(32), nullable=False),
    Column("kind", String(32), nullable=False),  # release, deploy, dependency, ...
    Column("title", String(500), nullable=False),
    Column("version", Text, nullable=True),
    Column("url", Text, nullable=True),
    Column("source", String(32), nullable=False),  # "github" or "api"
    # A re-delivered webhook (GitHub retries) or a re-posted event changes nothing.
    Column("dedupe_key", Text, nullable=False),
    UniqueConstraint("project_id", "dedupe_key", name="annotations_dedupe"),
    Index("annotations_project_at", "project_id", "at"),
)

# Aggregates by subject (a test, or a whole project's runs) and period: a day ("2026-11-22") as runs are stored;
# days older than the daily window are folded into their month ("2026-11") by retention. A month's figures are
# the sum of its rows, whichever of the two kinds they are (never both for the same day).
rollups = Table(
    "rollups",
    metadata,
    Column("subject", String(40), primary_key=True),  # a test_id, or "p:<project id>" for a project's runs
    Column("period", String(10), primary_key=True),  # "2026-11-22" (day) or "2026-11" (month)
    Column("project_id", Integer, nullable=False),
    Column("runs", Integer, nullable=False),  # results of the test, or runs of the project
    Column("passed", Integer, nullable=False),
    Column("failed", Integer, nullable=False),
    Column("error", Integer, nullable=False),
    Column("skipped", Integer, nullable=False),
    Column("xfailed", Integer, nullable=False),
    Column("xpassed", Integer, nullable=False),
    Column("duration_ms", Float, nullable=False),  # sum
    Column("duration_max_ms", Float, nullable=False),
    Column("tests", BigInteger, nullable=False),  # project: sum of tests per run; test: 0
    Column("assertions", BigInteger, nullable=False),
    Column("db_queries", BigInteger, nullable=False),
    Column("rss_peak_kb", BigInteger, nullable=False),  # max
    Index("rollups_project_period", "project_id", "period"),
)

# Duration histograms of the same subjects and periods, in log buckets 2% wide: percentiles of any period are
# read from them, and days fold into months exactly (bucket counts add up).
rollup_durations = Table(
    "rollup_durations",
    metadata,
    Column("subject", String(40), primary_key=True),
    Column("period", String(10), primary_key=True),
    Column("bucket", Integer, primary_key=True),
    Column("count", Integer, nullable=False),
)

# Where the server's bulk jobs stand (the last day whose test results are folded into rollups, ...).
rollup_state = Table(
    "rollup_state",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", String(200), nullable=False),
)
