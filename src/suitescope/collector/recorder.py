"""The framework-agnostic core: takes finished attempts, keeps the run's tallies, writes the run record.

Adapters (the pytest plugin, the unittest and Django runners) turn their framework's events into finished
`Attempt`s and hand them to `add_attempt` (or, encoded by a worker process, to `add_encoded`); the recorder does
everything that is the same for every framework. Each step runs inside the guard, so a failing sink or a bug
here costs one summary line, never the suite.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from suitescope import __version__
from suitescope.collector.attempt import Attempt, AttemptEncoder, utc_iso
from suitescope.collector.environment import GitStatus, environment
from suitescope.collector.guard import Guard
from suitescope.collector.process_peak import own_peak_kb
from suitescope.schema.codec import SCHEMA_VERSION
from suitescope.schema.records import (
    Configuration,
    Consent,
    Counts,
    Coverage,
    Cpu,
    Environment,
    Framework,
    Memory,
    RunRecord,
    RunState,
)
from suitescope.schema.summary import Facts, Tally
from suitescope.sinks.ndjson import NdjsonSink

ENCODE_ATTEMPTS = 64  # as many as `pytest_assembler.ASSEMBLE_REPORTS` makes at once
ENCODE_EVERY_S = 1.0


@dataclass
class ProcessUsage:
    """Peak memory and CPU of one process (the controller or one worker)."""

    name: str = "main"
    peak_rss_kb: int | None = None
    user_s: float | None = None
    system_s: float | None = None


def own_usage(name: str = "main", peak_kb: int | None = None) -> ProcessUsage:
    """This process's usage; `peak_kb` is the memory instrument's peak, which wins where it reset the kernel's."""
    try:
        import resource
    except ImportError:  # Windows
        return ProcessUsage(name, peak_kb)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    peak = own_peak_kb()  # not ru_maxrss alone: it can carry the peak of the process that started this one
    return ProcessUsage(name, max(peak or 0, peak_kb or 0) or None, usage.ru_utime, usage.ru_stime)


@dataclass
class RunInfo:
    """What an adapter knows about the run before the first test."""

    run_id: str
    directory: Path
    project: str | None
    vendor: str | None
    consent: Consent


@dataclass
class RunEnd:
    """What an adapter knows about the run once it is over."""

    exit_status: int | None
    state: RunState
    expected: int | None
    configuration: Configuration
    workers: list[ProcessUsage] = field(default_factory=list)  # usage of worker processes, if any
    lost_workers: int = 0
    own_peak_kb: int | None = None  # this process's peak as the memory instrument saw it
    instruments: frozenset[str] = frozenset()  # the instrument groups that ran: db, net, mem
    coverage: Coverage | None = None  # the run's coverage totals, when it measured coverage


class Recorder:
    """Collects one run's records and writes them through the NDJSON sink."""

    def __init__(self, info: RunInfo, guard: Guard) -> None:
        self.info = info
        self.guard = guard
        self.sink = NdjsonSink(info.directory, info.run_id)
        self.encode = AttemptEncoder(info.run_id)
        self.tally = Tally()
        self.started = time.time()
        self._t0 = time.perf_counter()
        self.environment: Environment | None = None
        self.git: GitStatus | None = None
        self.run: RunRecord | None = None
        self.waiting: list[Attempt] = []  # finished attempts not encoded yet
        self.encode_at = 0.0  # monotonic time: the first attempt is encoded at once

    @property
    def run_id(self) -> str:
        return self.info.run_id

    def start(self, framework: Framework, root: Path) -> None:
        """The run starts: where it runs (its git status is read beside the tests, and waited for at the end)."""
        self.git = GitStatus(root)
        self.environment = environment(framework, None)
        with self.guard("sink"):
            self.sink.open()

    def add_attempt(self, attempt: Attempt) -> None:
        """A finished attempt of a test of this process: encoded with the next few, at most a second later."""
        self.waiting.append(attempt)
        if len(self.waiting) >= ENCODE_ATTEMPTS or time.monotonic() >= self.encode_at:
            self.encode_waiting()

    def encode_waiting(self) -> None:
        """Encode, count and write the waiting attempts. Encoding is the largest part of what a record costs, and
        in one loop, with its code and data warm in the CPU's caches, it takes about half the time it takes
        between two tests (see `pytest_controller.Controller.assemble`). Nothing waits before the first record
        is written: a run in progress shows at once."""
        waiting, self.waiting = self.waiting, []
        if not self.guard.active("recorder"):
            return
        lines: list[str] = []
        try:
            encode, count = self.encode, self.tally.add_facts
            for attempt in waiting:
                line, fact = encode(attempt)
                count(fact)
                lines.append(line)
        except Exception as exc:
            self.guard.fail("recorder", exc)
        self.write(lines)
        self.encode_at = time.monotonic() + ENCODE_EVERY_S if self.sink.written else 0.0

    def add_encoded(self, lines: list[str], facts: list[Facts]) -> None:
        """Test records as their lines and facts, encoded here or by a worker process: counted and written."""
        count = self.tally.add_facts
        for fact in facts:
            count(fact)
        self.write(lines)

    def write(self, lines: list[str]) -> None:
        if lines and self.guard.active("sink"):
            try:
                self.sink.write_lines(lines)
            except Exception as exc:
                self.guard.fail("sink", exc)

    def finish(self, end: RunEnd) -> RunRecord | None:
        """Write the run record and close the file; returns the record (None if it was written already)."""
        if self.run is not None:
            return None
        self.encode_waiting()
        self.run = self.run_record(end)
        if self.guard.active("sink"):
            try:
                self.sink.write(self.run)
                self.sink.close()
            except Exception as exc:
                self.guard.fail("sink", exc)
        return self.run

    def environment_with_git(self) -> Environment:
        started = self.started_environment()
        git, self.git = self.git, None
        return started if git is None else environment(started["framework"], git.result())

    def started_environment(self) -> Environment:
        """The environment read at `start`. No `assert` in the collector: pytest rewrites a plugin's modules, and
        with `enable_assertion_pass_hook` on, every assert of ours that passed counted as one of the user's."""
        if self.environment is None:
            raise RuntimeError("the run record was asked for before the run started")
        return self.environment

    def run_record(self, end: RunEnd) -> RunRecord:
        tally, info = self.tally, self.info
        counts: Counts = {
            "passed": tally.counts["passed"],
            "failed": tally.counts["failed"],
            "error": tally.counts["error"],
            "skipped": tally.counts["skipped"],
            "xfailed": tally.counts["xfailed"],
            "xpassed": tally.counts["xpassed"],
        }
        passed = tally.assertions_passed
        usage = [own_usage("main", end.own_peak_kb), *end.workers]
        return {
            "schema_version": SCHEMA_VERSION,
            "kind": "run",
            "run_id": info.run_id,
            "project": info.project,
            "vendor": info.vendor,
            "started": utc_iso(self.started),
            "finished": utc_iso(time.time()),
            "duration_ms": round((time.perf_counter() - self._t0) * 1000, 3),
            "tests_duration_ms": round(tally.tests_duration_ms, 3),
            "exit_status": end.exit_status,
            "state": end.state,
            "counts": counts,
            "tests": len(tally.executed),
            "attempts": tally.attempts,
            "reruns": tally.reruns,
            "classes": len(tally.classes),
            "modules": len(tally.modules),
            "assertions": {
                "total": None if passed is None else passed + tally.assertions_failed,
                "passed": passed,
                "failed": tally.assertions_failed,
            },
            "exceptions": tally.exceptions,
            "errors": counts["error"] + tally.collection_errors,
            "collection_errors": tally.collection_errors,
            "subtests_failed": tally.subtests_failed,
            "tests_expected": end.expected,
            "tests_executed": len(tally.executed),
            "lost_workers": end.lost_workers,
            "memory": _memory(usage),
            "cpu": _cpu(usage),
            "effects": {
                "db_queries": (tally.db_queries or 0) if "db" in end.instruments else None,
                "db_duration_ms": round(tally.db_duration_ms, 3) if "db" in end.instruments else None,
                "n_plus_one_tests": tally.n_plus_one_tests if "db" in end.instruments else None,
                "external_network_tests": (tally.external_network_tests or 0) if "net" in end.instruments else None,
            },
            "coverage": end.coverage,
            "environment": self.environment_with_git(),
            "configuration": end.configuration,
            "collector": {"name": "suitescope", "version": __version__},
            "consent": info.consent,
        }


def _memory(usage: list[ProcessUsage]) -> Memory:
    peaks = [u.peak_rss_kb for u in usage if u.peak_rss_kb is not None]
    return {
        "peak_rss_kb": max(peaks) if peaks else None,
        "processes": {u.name: u.peak_rss_kb for u in usage if u.peak_rss_kb is not None},
    }


def _cpu(usage: list[ProcessUsage]) -> Cpu:
    def total(values: list[float | None]) -> float | None:
        known = [v for v in values if v is not None]
        return round(sum(known), 3) if known else None

    return {"user_s": total([u.user_s for u in usage]), "system_s": total([u.system_s for u in usage])}
