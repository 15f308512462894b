"""What `suitescope serve` is told: where the store and the queue are, the limits, retention and rate limits."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from suitescope.server.body import Limits
from suitescope.server.rollups import Retention
from suitescope.server.worker import WorkerPolicy


@dataclass(frozen=True)
class ServerSettings:
    database: str
    queue: str
    limits: Limits = field(default_factory=Limits)
    retention: Retention = field(default_factory=Retention)
    worker_policy: WorkerPolicy = field(default_factory=WorkerPolicy)
    rate_limit: int = 1200  # requests per minute per token (or per address without one); 0: no limit
    run_worker: bool = True  # False: API only (more API processes, workers elsewhere)
    retention_every_s: float = 3600.0

    @classmethod
    def in_dir(
        cls, data_dir: Path, database: str | None = None, queue: str | None = None, **kw: object
    ) -> ServerSettings:
        """The embedded default: `suitescope.db` and `suitescope-queue.db` in `data_dir`."""
        data_dir = data_dir.resolve()
        data_dir.mkdir(parents=True, exist_ok=True)  # a new data directory is a normal first start
        return cls(
            database=database or f"sqlite:///{data_dir / 'suitescope.db'}",
            queue=queue or f"sqlite:///{data_dir / 'suitescope-queue.db'}",
            **kw,  # type: ignore[arg-type]
        )
