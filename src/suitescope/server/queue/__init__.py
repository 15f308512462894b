"""The durable queue between the API and the workers: a family of backends behind one small interface.

The API `put`s a report and answers 202 only once `put` returned (the report is on disk); a worker `lease`s a
job, stores it, then `ack`s it. A job whose worker died is leased again once its lease expires (or at once,
when the dead worker was a process of this machine), so delivery is at least once and the store's
idempotence by run_id makes it exactly once in effect.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class NewJob:
    run_id: str
    project_id: int
    meta: dict[str, Any]  # tags, content type and encoding of the body
    body: bytes  # the report as received (gzip stays gzip)


@dataclass(frozen=True)
class Job(NewJob):
    id: int = 0
    attempts: int = 0  # leases so far, this one included


@dataclass(frozen=True)
class Part:
    """One part of a run sent in parts; the run becomes a job once every part is in."""

    run_id: str
    project_id: int
    part: int  # 1 .. parts
    parts: int
    meta: dict[str, Any]
    body: bytes  # as received
    has_run: bool  # holds the run record
    tests: int


@dataclass(frozen=True)
class JobInfo:
    """A job as `suitescope queue ls` and the status endpoint show it (no body)."""

    id: int
    run_id: str
    project_id: int
    state: str  # ready, leased, dead
    attempts: int
    created_at: float
    available_at: float
    last_error: str | None


@dataclass
class Depth:
    ready: int = 0
    leased: int = 0
    dead: int = 0
    by_state: dict[str, int] = field(default_factory=dict)


class Queue(Protocol):
    def put(self, job: NewJob) -> int: ...
    def put_part(self, part: Part) -> int: ...
    def assemble(self, run_id: str, parts: int, make: Callable[[list[Part]], NewJob]) -> int | None: ...
    def parts_received(self, run_id: str) -> tuple[int, int, int] | None: ...
    def drop_parts(self, run_id: str) -> None: ...
    def lease(self, owner: str, visibility_s: float, limit: int = 1, max_bytes: int = 1 << 62) -> list[Job]: ...
    def ack(self, job_ids: list[int]) -> None: ...
    def release(self, job_id: int, delay_s: float) -> None: ...
    def fail(self, job_id: int, error: str, delay_s: float, dead: bool) -> None: ...
    def reclaim(self) -> int: ...
    def status(self, run_id: str) -> JobInfo | None: ...
    def jobs(self, state: str | None = None, limit: int = 100) -> list[JobInfo]: ...
    def retry(self, job_ids: list[int] | None = None) -> int: ...
    def purge(self, job_ids: list[int] | None = None) -> int: ...
    def depth(self) -> Depth: ...
    def close(self) -> None: ...


def open_queue(url: str) -> Queue:
    """`sqlite:///path/queue.db` (the embedded default) or `redis://host:6379/0[?prefix=name]` (Redis Streams,
    for many processes on many hosts; `pip install "suitescope[redis]"`)."""
    if url.startswith("sqlite:///"):
        from suitescope.server.queue.sqlite import SqliteQueue

        return SqliteQueue(url.removeprefix("sqlite:///"))
    if url.startswith(("redis://", "rediss://", "unix://")):
        try:
            from suitescope.server.queue.redis import RedisQueue
        except ImportError as exc:
            raise ValueError(f'the Redis queue needs redis-py: pip install "suitescope[redis]" ({exc})') from None
        return RedisQueue(url)
    raise ValueError(f"unsupported queue URL {url!r}: use sqlite:///path/to/queue.db or redis://host:6379/0")
