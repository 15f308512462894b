"""The store's results as analysis rows (`analysis.history.Outcome`), fetched no wider than a finding needs:
the analyses are the CLI's own pure functions, so the server's findings are the same as a local report's."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, select

from suitescope.analysis.history import Outcome, RunInfo
from suitescope.server.store.tables import network, results, runs, tests

CHUNK = 500  # ids per IN (...) list: well under SQLite's limit of bound parameters


def recent_runs(
    conn: Connection,
    project_id: int,
    limit: int,
    branch: str | None = None,
    *,
    environment: str | None = None,
    since: str | None = None,
) -> list[str]:
    """The project's latest runs (of a branch, of an environment, since a time), oldest first."""
    query = select(runs.c.run_id).where(runs.c.project_id == project_id)
    if branch is not None:
        query = query.where(runs.c.branch == branch)
    if environment is not None:
        query = query.where(runs.c.environment == environment)
    if since is not None:
        query = query.where(runs.c.started_at >= since)
    found = [row[0] for row in conn.execute(query.order_by(runs.c.started_at.desc()).limit(limit))]
    return found[::-1]


def run_infos(conn: Connection, run_ids: list[str]) -> dict[str, RunInfo]:
    found: dict[str, RunInfo] = {}
    for start in range(0, len(run_ids), CHUNK):
        query = select(
            runs.c.run_id,
            runs.c.started_at,
            runs.c.commit_sha,
            runs.c.branch,
            runs.c.ci,
            runs.c.state,
            runs.c.python_version,
            runs.c.os,
            runs.c.record,
        ).where(runs.c.run_id.in_(run_ids[start : start + CHUNK]))
        for row in conn.execute(query):
            record: dict[str, Any] = row.record or {}
            git = (record.get("environment") or {}).get("git") or {}
            environment = f"{row.python_version or ''} {row.os or ''}".strip()
            found[row.run_id] = RunInfo(
                row.run_id,
                row.started_at,
                row.commit_sha,
                row.branch,
                row.ci is not None,
                row.state,
                int(record.get("lost_workers") or 0),
                bool(git.get("dirty")),
                environment,
            )
    return found


def failing_tests(conn: Connection, run_ids: list[str]) -> list[str]:
    """Tests that failed, or needed a retry, in these runs: the only ones that can be flaky or broken."""
    found: set[str] = set()
    r = results.c
    for start in range(0, len(run_ids), CHUNK):
        query = select(r.test_id).where(
            r.run_id.in_(run_ids[start : start + CHUNK]), (r.fingerprint.is_not(None)) | (r.attempt > 1)
        )
        found.update(row[0] for row in conn.execute(query.distinct()))
    return sorted(found)


def outcomes(conn: Connection, run_ids: list[str], test_ids: Iterable[str] | None = None) -> list[Outcome]:
    """Rows of these runs (of these tests only, when given), in run order then as recorded."""
    infos = run_infos(conn, run_ids)
    order = {run_id: index for index, run_id in enumerate(run_ids)}
    r = results.c
    columns = (
        r.run_id,
        r.seq,
        tests.c.nodeid,
        tests.c.file,
        r.status,
        r.phase,
        r.attempt,
        r.final,
        r.fingerprint,
        r.duration_ms,
        r.db_queries,
    )
    rows: list[Any] = []
    wanted = list(test_ids) if test_ids is not None else None
    # With tests given, their index by test and start reads only the results since the first of these runs.
    since = min((info.started for info in infos.values()), default="")
    for start in range(0, len(run_ids), CHUNK):
        query = (
            select(*columns)
            .join(tests, tests.c.test_id == r.test_id)
            .where(r.run_id.in_(run_ids[start : start + CHUNK]))
        )
        if wanted is None:
            rows.extend(conn.execute(query))
            continue
        for first in range(0, len(wanted), CHUNK):
            chunk = query.where(r.test_id.in_(wanted[first : first + CHUNK]), r.started_at >= since)
            rows.extend(conn.execute(chunk))
    rows.sort(key=lambda row: (order[row[0]], row[1]))
    hosts = external_hosts(conn, run_ids)
    return [
        Outcome(
            nodeid,
            file,
            infos[run_id],
            status,
            phase,
            attempt,
            bool(final),
            fingerprint,
            duration,
            queries,
            hosts.get((run_id, seq), ()),
        )
        for run_id, seq, nodeid, file, status, phase, attempt, final, fingerprint, duration, queries in rows
    ]


def external_hosts(conn: Connection, run_ids: list[str]) -> dict[tuple[str, int], tuple[str, ...]]:
    """Hosts other than loopback that each result reached, by (run_id, seq)."""
    found: dict[tuple[str, int], set[str]] = {}
    n = network.c
    for start in range(0, len(run_ids), CHUNK):
        query = select(n.run_id, n.seq, n.host).where(
            n.run_id.in_(run_ids[start : start + CHUNK]), n.loopback.is_(False), n.host.is_not(None)
        )
        for run_id, seq, host in conn.execute(query):
            found.setdefault((run_id, seq), set()).add(host)
    return {key: tuple(sorted(value)) for key, value in found.items()}
