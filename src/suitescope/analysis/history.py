"""The rows every finding is computed from: one per attempt of a test in a run, with where the run came from.

The CLI makes them from local run files (`from_runs`), the server from its store; the analyses never know which.
Rows are in run order (oldest first), attempts of a test in a run in attempt order.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from suitescope.analysis.runs import Run

# Failures that are not the test's: the run broke around it (a file that failed to import, a crashed worker).
INFRA_PHASES = frozenset({"collect", "crash"})
FAILING = frozenset({"failed", "error"})


@dataclass(frozen=True)
class RunInfo:
    """What a finding needs to know about a run, to weigh its outcomes and to cite it as evidence."""

    run_id: str
    started: str
    commit: str | None
    branch: str | None
    ci: bool
    state: str  # completed, interrupted, crashed, running
    lost_workers: int = 0
    dirty: bool = False  # a working tree with uncommitted changes: its commit is not the code that ran
    environment: str = ""  # "3.12 Linux": durations compare only within one
    seed: int | None = None  # pytest-randomly's seed: the run's test order

    @property
    def finished_cleanly(self) -> bool:
        return self.state == "completed" and not self.lost_workers


@dataclass(slots=True)  # not frozen: the server makes hundreds of thousands, and frozen ones cost 3x to make
class Outcome:
    test: str  # the test's id (pytest node id, unittest id)
    file: str | None
    run: RunInfo
    status: str
    phase: str | None  # the record's `when`
    attempt: int
    final: bool
    fingerprint: str | None
    duration_ms: float
    queries: int | None = None  # None: the db instrument did not run
    external_hosts: tuple[str, ...] = ()  # hosts other than loopback it reached

    @property
    def failed(self) -> bool:
        return self.status in FAILING

    @property
    def infra(self) -> bool:
        """A failure the run's breakage explains: a collection error, a crashed worker, an interrupted run."""
        return self.failed and (self.phase in INFRA_PHASES or not self.run.finished_cleanly)


def run_info(run: Run) -> RunInfo:
    record = run.run
    if record is None:
        started = (run.tests[0].get("start_time") or "") if run.tests else ""
        return RunInfo(run.run_id, started, None, None, False, "running")
    env = record["environment"]
    ci: dict[str, Any] = dict(env.get("ci") or {})
    git: dict[str, Any] = dict(env.get("git") or {})
    return RunInfo(
        run.run_id,
        record["started"],
        ci.get("commit") or git.get("commit"),
        ci.get("branch") or git.get("branch"),
        bool(env.get("ci")),
        record["state"],
        record.get("lost_workers") or 0,
        bool(git.get("dirty")),
        f"{'.'.join(env['python']['version'].split('.')[:2])} {env['os']['name']}",
        record["configuration"].get("randomly_seed"),
    )


def from_runs(runs: Iterable[Run]) -> Iterator[Outcome]:
    """Rows of local runs (attempts of tests; failed subtests and class fixtures are not tests' attempts)."""
    for run in runs:
        info = run_info(run)
        for test in run.tests:
            when = test["when"]
            if when in ("subtest", "setup_class", "teardown_class", "setup_module", "teardown_module"):
                continue
            failure = test["failure"]
            db, network = test.get("db"), test.get("network") or ()
            yield Outcome(
                test["id"],
                test["file"],
                info,
                test["status"],
                when,
                test["attempt"],
                test["final"],
                failure["fingerprint"] if failure else None,
                test["duration_ms"],
                db["count"] if db else None,
                tuple(sorted({call["host"] for call in network if call["host"] and not call["loopback"]})),
            )
