"""The worker: lease a job, store its report, acknowledge it. At least once in delivery, once in effect.

A job that fails is retried with exponential backoff and, after `max_attempts`, moved to the dead-letter list
(`suitescope queue ls --dead`). When the *store* is unreachable the job is not at fault: it goes back to the
queue without using an attempt, and the backlog drains once the store answers again.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from sqlalchemy.exc import DBAPIError, OperationalError

from suitescope.server.body import gunzip
from suitescope.server.metrics import Metrics
from suitescope.server.queue import Job, Queue
from suitescope.server.queue.sqlite import owner_id
from suitescope.server.reports import Report, parse_report
from suitescope.server.store import Store
from suitescope.server.store.writes import Tags

log = logging.getLogger("suitescope.worker")


@dataclass(frozen=True)
class WorkerPolicy:
    visibility_s: float = 300.0  # a lease longer than any report takes to store
    max_attempts: int = 5
    backoff_s: float = 2.0  # first retry after 2 s, then 4, 8, ... up to max_backoff_s
    max_backoff_s: float = 300.0
    idle_s: float = 0.2  # pause when the queue is empty
    # Jobs stored in one transaction when there is a backlog: one commit for many runs.
    batch_jobs: int = 16
    batch_bytes: int = 16 * 1024 * 1024


class Worker:
    def __init__(self, queue: Queue, store: Store, metrics: Metrics, policy: WorkerPolicy | None = None) -> None:
        self.queue = queue
        self.store = store
        self.metrics = metrics
        self.policy = policy or WorkerPolicy()
        self.owner = owner_id()

    def run(self, stop: threading.Event) -> None:
        """Work until `stop` is set; the job in hand is finished first (a graceful stop loses nothing)."""
        self.queue.reclaim()
        while not stop.is_set():
            if not self.run_once():
                stop.wait(self.policy.idle_s)

    def drain(self) -> int:
        """Process every job available now; how many were handled (tests and `suitescope worker --once`)."""
        handled = 0
        while batch := self.run_once():
            handled += batch
        return handled

    def run_once(self) -> int:
        """Lease a batch of jobs and store it in one transaction; how many jobs were handled (0 when there was
        nothing to do, or the store is down, which is a reason to pause too)."""
        jobs = self._lease_batch()
        if not jobs:
            return 0
        reports = []
        for job in jobs:
            try:
                reports.append((job, self.read(job)))
            except Exception as exc:  # a body the API accepted but this code cannot read: a bug, kept
                self._failed(job, exc)
        if not reports:
            return len(jobs)
        try:
            stored = self.store.write_reports([(report, tags) for _job, (report, tags) in reports])
        except (OperationalError, DBAPIError) as exc:
            if _is_unavailable(exc):
                self.metrics.add("suitescope_store_unavailable_total")
                log.warning("store unavailable, %d jobs go back to the queue: %s", len(reports), exc)
                for job, _ in reports:
                    self.queue.release(job.id, self._backoff(1))
                return 0  # pause before the next lease: the store is down for every job
            self._one_by_one(reports, exc)
        except Exception as exc:  # a bug or a report the store cannot take: find which, retry it alone
            self._one_by_one(reports, exc)
        else:
            self.queue.ack([job.id for job, _ in reports])
            for (job, (report, _tags)), new in zip(reports, stored, strict=True):
                self._done(job, report, new)
        return len(jobs)

    def _lease_batch(self) -> list[Job]:
        policy = self.policy
        return self.queue.lease(self.owner, policy.visibility_s, policy.batch_jobs, policy.batch_bytes)

    def _one_by_one(self, reports: list[tuple[Job, tuple[Report, Tags]]], first: Exception) -> None:
        """A batch failed as a whole: store its jobs one at a time, so only the bad one is retried."""
        if len(reports) == 1:
            self._failed(reports[0][0], first)
            return
        for job, (report, tags) in reports:
            try:
                stored = self.store.write_reports([(report, tags)])[0]
            except Exception as exc:
                self._failed(job, exc)
            else:
                self.queue.ack([job.id])
                self._done(job, report, stored)

    def read(self, job: Job) -> tuple[Report, Tags]:
        meta = job.meta
        data = gunzip(job.body, 1 << 34) if meta["encoding"] == "gzip" else job.body
        return parse_report(data, meta["content_type"]), Tags(**meta["tags"])

    def _done(self, job: Job, report: Report, stored: bool) -> None:
        """Count and log a job the store took (already acknowledged)."""
        if stored:
            self.metrics.add("suitescope_reports_stored_total")
            self.metrics.add("suitescope_results_stored_total", len(report.tests))
        else:
            self.metrics.add("suitescope_reports_duplicate_total")
        log.info("run %s %s (%d results)", job.run_id, "stored" if stored else "already stored", len(report.tests))

    def _failed(self, job: Job, exc: Exception) -> None:
        dead = job.attempts >= self.policy.max_attempts
        self.metrics.add("suitescope_job_failures_total")
        log.error(
            "job %s of run %s failed (attempt %d%s): %r",
            job.id,
            job.run_id,
            job.attempts,
            ", dead-lettered" if dead else "",
            exc,
        )
        self.queue.fail(job.id, f"{type(exc).__name__}: {exc}", self._backoff(job.attempts), dead)

    def _backoff(self, attempts: int) -> float:
        return float(min(self.policy.backoff_s * 2 ** max(attempts - 1, 0), self.policy.max_backoff_s))


def _is_unavailable(exc: DBAPIError) -> bool:
    """The database is down or busy (connection refused or lost, locked), as opposed to a bad statement."""
    if exc.connection_invalidated:
        return True
    text = str(exc.orig).lower()
    return isinstance(exc, OperationalError) and any(
        word in text for word in ("connection", "locked", "unable to open", "server closed", "disk i/o", "timeout")
    )
