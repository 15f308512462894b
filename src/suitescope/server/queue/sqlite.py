"""The queue in its own SQLite file: WAL with `synchronous=FULL`, so a job `put` survives a power cut.

One row per job. A lease sets `state='leased'` and pushes `available_at` to the end of the visibility timeout:
a job whose lease ran out is simply available again. The schema has a version (`PRAGMA user_version`); a file
of another version is refused with a message.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

from suitescope.server.queue import Depth, Job, JobInfo, NewJob, Part

VERSION = 1
SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id TEXT NOT NULL,
    project_id INTEGER NOT NULL,
    meta TEXT NOT NULL,
    body BLOB NOT NULL,
    state TEXT NOT NULL DEFAULT 'ready',    -- ready, leased, dead
    attempts INTEGER NOT NULL DEFAULT 0,
    owner TEXT,                             -- host:pid:nonce of the worker holding the lease
    created_at REAL NOT NULL,
    available_at REAL NOT NULL,
    last_error TEXT
);
CREATE INDEX IF NOT EXISTS jobs_available ON jobs (state, available_at);
CREATE INDEX IF NOT EXISTS jobs_run ON jobs (run_id);
CREATE TABLE IF NOT EXISTS parts (          -- runs sent in parts, until the last part is in
    run_id TEXT NOT NULL,
    part INTEGER NOT NULL,
    parts INTEGER NOT NULL,
    project_id INTEGER NOT NULL,
    meta TEXT NOT NULL,
    body BLOB NOT NULL,
    has_run INTEGER NOT NULL,
    tests INTEGER NOT NULL,
    created_at REAL NOT NULL,
    PRIMARY KEY (run_id, part)
);
"""
PART_TTL_S = 24 * 3600  # parts of a run whose other parts never came are dropped after a day
INFO = "id, run_id, project_id, state, attempts, created_at, available_at, last_error"


class QueueVersionError(RuntimeError):
    pass


class SqliteQueue:
    def __init__(self, path: str) -> None:
        self.path = path
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        conn = self._conn()
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version not in (0, VERSION):
            raise QueueVersionError(f"{path}: queue schema version {version}, this suitescope reads {VERSION}")
        with conn:
            conn.executescript(SCHEMA)
            conn.execute(f"PRAGMA user_version = {VERSION}")

    def _conn(self) -> sqlite3.Connection:
        """One connection per thread: the API's threads put, the worker's thread leases."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            self._local.conn = conn
        return conn

    def put(self, job: NewJob) -> int:
        now = time.time()
        cursor = self._conn().execute(
            "INSERT INTO jobs (run_id, project_id, meta, body, created_at, available_at) VALUES (?, ?, ?, ?, ?, ?)",
            (job.run_id, job.project_id, json.dumps(job.meta), job.body, now, now),
        )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def put_part(self, part: Part) -> int:
        """Keep one part (sending it again replaces it); how many parts of its run are in now."""
        now = time.time()
        conn = self._conn()
        conn.execute("DELETE FROM parts WHERE created_at < ?", (now - PART_TTL_S,))
        conn.execute(
            "INSERT OR REPLACE INTO parts (run_id, part, parts, project_id, meta, body, has_run, tests, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                part.run_id,
                part.part,
                part.parts,
                part.project_id,
                json.dumps(part.meta),
                part.body,
                part.has_run,
                part.tests,
                now,
            ),
        )
        return int(conn.execute("SELECT count(*) FROM parts WHERE run_id = ?", (part.run_id,)).fetchone()[0])

    def assemble(self, run_id: str, parts: int, make: Callable[[list[Part]], NewJob]) -> int | None:
        """When all `parts` parts of a run are in: `make` one job of them, queue it and drop the parts, in one
        transaction (so a run is queued once, however its last parts race). None while parts are missing."""
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            rows = conn.execute(
                "SELECT run_id, project_id, part, parts, meta, body, has_run, tests FROM parts WHERE run_id = ?"
                " ORDER BY part",
                (run_id,),
            ).fetchall()
            if [row[2] for row in rows] != list(range(1, parts + 1)):
                conn.execute("ROLLBACK")
                return None
            found = [Part(r[0], r[1], r[2], r[3], json.loads(r[4]), r[5], bool(r[6]), r[7]) for r in rows]
            job = make(found)
            now = time.time()
            cursor = conn.execute(
                "INSERT INTO jobs (run_id, project_id, meta, body, created_at, available_at) VALUES (?, ?, ?, ?, ?, ?)",
                (job.run_id, job.project_id, json.dumps(job.meta), job.body, now, now),
            )
            conn.execute("DELETE FROM parts WHERE run_id = ?", (run_id,))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def parts_received(self, run_id: str) -> tuple[int, int, int] | None:
        """(parts in, parts in all, project id) of a run still being sent in parts, or None."""
        query = "SELECT count(*), max(parts), max(project_id) FROM parts WHERE run_id = ?"
        row = self._conn().execute(query, (run_id,)).fetchone()
        return (int(row[0]), int(row[1]), int(row[2])) if row[0] else None

    def drop_parts(self, run_id: str) -> None:
        self._conn().execute("DELETE FROM parts WHERE run_id = ?", (run_id,))

    def lease(self, owner: str, visibility_s: float, limit: int = 1, max_bytes: int = 1 << 62) -> list[Job]:
        """Lease up to `limit` available jobs, oldest first, whose bodies add up to at most `max_bytes` (the first
        one always): one statement and one commit for a batch."""
        now = time.time()
        rows = (
            self._conn()
            .execute(
                "UPDATE jobs SET state = 'leased', owner = ?, attempts = attempts + 1, available_at = ?"
                " WHERE id IN (SELECT id FROM ("
                "   SELECT id, row_number() OVER win AS place, sum(length(body)) OVER win AS running FROM jobs"
                "   WHERE state IN ('ready', 'leased') AND available_at <= ?"
                "   WINDOW win AS (ORDER BY available_at, id) ORDER BY available_at, id LIMIT ?"
                " ) WHERE place = 1 OR running <= ?)"
                " RETURNING id, run_id, project_id, meta, body, attempts",
                (owner, now + visibility_s, now, limit, max_bytes),
            )
            .fetchall()
        )
        jobs = [
            Job(run_id, project_id, json.loads(meta), body, job_id, attempts)
            for job_id, run_id, project_id, meta, body, attempts in rows
        ]
        return sorted(jobs, key=lambda job: job.id)

    def ack(self, job_ids: list[int]) -> None:
        """Done with these jobs: they leave the queue (one statement, one commit)."""
        marks = ",".join("?" * len(job_ids))
        self._conn().execute(f"DELETE FROM jobs WHERE id IN ({marks})", job_ids)

    def release(self, job_id: int, delay_s: float) -> None:
        """Give a job back without counting the attempt (the store was down: not the job's fault)."""
        self._conn().execute(
            "UPDATE jobs SET state = 'ready', owner = NULL, attempts = attempts - 1, available_at = ? WHERE id = ?",
            (time.time() + delay_s, job_id),
        )

    def fail(self, job_id: int, error: str, delay_s: float, dead: bool) -> None:
        self._conn().execute(
            "UPDATE jobs SET state = ?, owner = NULL, last_error = ?, available_at = ? WHERE id = ?",
            ("dead" if dead else "ready", error[:2000], time.time() + delay_s, job_id),
        )

    def reclaim(self) -> int:
        """Free at once the leases of workers of this host that are no longer running (killed, crashed)."""
        rows = self._conn().execute("SELECT id, owner FROM jobs WHERE state = 'leased'").fetchall()
        dead = [job_id for job_id, owner in rows if is_dead_owner(owner)]
        for job_id in dead:
            self._conn().execute(
                "UPDATE jobs SET state = 'ready', owner = NULL, available_at = ? WHERE id = ? AND state = 'leased'",
                (time.time(), job_id),
            )
        return len(dead)

    def status(self, run_id: str) -> JobInfo | None:
        row = (
            self._conn()
            .execute(f"SELECT {INFO} FROM jobs WHERE run_id = ? ORDER BY id DESC LIMIT 1", (run_id,))
            .fetchone()
        )
        return JobInfo(*row) if row else None

    def jobs(self, state: str | None = None, limit: int = 100) -> list[JobInfo]:
        where, args = ("WHERE state = ?", (state,)) if state else ("", ())
        rows = self._conn().execute(f"SELECT {INFO} FROM jobs {where} ORDER BY id LIMIT ?", (*args, limit))
        return [JobInfo(*row) for row in rows]

    def retry(self, job_ids: list[int] | None = None) -> int:
        """Dead jobs back to ready, with their attempts reset (all of them, or those named)."""
        return self._on_dead("UPDATE jobs SET state = 'ready', attempts = 0, available_at = ?", job_ids, (time.time(),))

    def purge(self, job_ids: list[int] | None = None) -> int:
        return self._on_dead("DELETE FROM jobs", job_ids, ())

    def _on_dead(self, statement: str, job_ids: list[int] | None, args: tuple[object, ...]) -> int:
        if job_ids is None:
            return self._conn().execute(f"{statement} WHERE state = 'dead'", args).rowcount
        marks = ",".join("?" * len(job_ids))
        return self._conn().execute(f"{statement} WHERE state = 'dead' AND id IN ({marks})", (*args, *job_ids)).rowcount

    def depth(self) -> Depth:
        by_state = dict(self._conn().execute("SELECT state, count(*) FROM jobs GROUP BY state").fetchall())
        return Depth(by_state.get("ready", 0), by_state.get("leased", 0), by_state.get("dead", 0), by_state)

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None


def owner_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{os.urandom(4).hex()}"


def is_dead_owner(owner: str | None) -> bool:
    """Whether the worker named `owner` (host:pid:nonce, see owner_id) was a process of this host that is gone;
    another host's workers are never judged from here (their leases run out on their own)."""
    if not owner:
        return True
    owner_host, pid, _nonce = [*owner.rsplit(":", 2), "", ""][:3]
    if owner_host != socket.gethostname() or not pid.isdigit():
        return False  # another machine's worker: its lease runs out on its own
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, someone else's
        return False
    return False
