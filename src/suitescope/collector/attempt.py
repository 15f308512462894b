"""One attempt of one test as it runs, and the test record it becomes: the part of turning a framework's events
into records that is the same for pytest, unittest and Django.

The adapters fill an `Attempt` from their own events (pytest's phase reports, unittest's result callbacks) and
call `test_record` once it is over. `identity` holds what names the test (`name`, `class`, `module`, `file`,
`line`, `params`, `markers`, `worker`); what it lacks is derived from the id.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from suitescope.collector.fingerprint import describe_text, truncate
from suitescope.collector.recorder import utc_iso
from suitescope.schema.codec import SCHEMA_VERSION
from suitescope.schema.records import Failure, Phase, Status, TestRecord


def safe_repr(value: object) -> str:
    try:
        text = repr(value)
    except Exception:  # a user's __repr__ may raise; that is not our test to fail
        text = f"<{type(value).__name__}>"
    return truncate(text, PARAM_LIMIT)


def relative_file(path: str, real_root: str) -> str:
    """The real path of a test file relative to the real root (symlinks resolved), `/`-separated; callers cache
    it per module or class."""
    real = os.path.realpath(path)
    try:
        return Path(os.path.relpath(real, real_root)).as_posix()
    except ValueError:  # another drive on Windows
        return Path(real).as_posix()


# The record fields of an attempt when no instrument ran (shared, never written to);
# here, not with the instruments, so that a run without them never imports them.
NO_EFFECTS: dict[str, Any] = {
    "db": None,
    "db_queries": None,
    "network": None,
    "net_urls": None,
    "memory": None,
    "cpu": None,
}


PARAM_LIMIT = 200
INTERRUPTED = describe_text("Interrupted", "the run stopped during this test", "")  # the failure of a Ctrl-C
PHASE_KEYS = {"setup": "setup_ms", "call": "call_ms", "teardown": "teardown_ms"}


class Attempt:
    """One attempt of one test while its phase reports arrive (slots: thousands are made per run)."""

    __slots__ = (
        "assertions",
        "attempt",
        "effects",
        "failure",
        "final",
        "identity",
        "nodeid",
        "phases",
        "reason",
        "start",
        "status",
        "stop",
        "when",
        "worker",
    )

    def __init__(self, nodeid: str, start: float | None, worker: str | None, attempt: int) -> None:
        self.nodeid = nodeid
        self.start = start
        self.worker = worker
        self.attempt = attempt
        self.identity: dict[str, Any] = {}
        self.status: Status = "passed"
        self.when: Phase | None = None
        self.failure: Failure | None = None
        self.reason: str | None = None
        self.final = True
        self.stop: float | None = None
        self.phases: dict[str, float | None] = {"setup_ms": None, "call_ms": None, "teardown_ms": None}
        self.assertions: dict[str, int | None] = {"passed": None, "failed": 0}
        self.effects: dict[str, Any] = NO_EFFECTS

    def fail(self, status: Status, when: Phase, failure: Failure | None) -> None:
        """The first failure of an attempt decides its status; later ones do not overwrite it."""
        if self.status in ("passed", "xpassed"):
            self.status, self.when, self.failure = status, when, failure


def test_record(run_id: str, attempt: Attempt) -> TestRecord:
    """The test record of a finished attempt."""
    ident = attempt.identity
    effects = attempt.effects
    phases = attempt.phases
    nodeid = attempt.nodeid
    setup, call, teardown = phases["setup_ms"], phases["call_ms"], phases["teardown_ms"]
    return {
        "schema_version": SCHEMA_VERSION,
        "kind": "test",
        "run_id": run_id,
        "id": nodeid,
        "name": ident.get("name") or nodeid.rpartition("::")[2],
        "class": ident.get("class"),
        "module": ident.get("module"),
        "file": ident.get("file") or nodeid.partition("::")[0],
        "line": ident.get("line"),
        "params": ident.get("params"),
        "status": attempt.status,
        "when": attempt.when,
        "start_time": utc_iso(attempt.start) if attempt.start else None,
        "end_time": utc_iso(attempt.stop) if attempt.stop else None,
        "duration_ms": round((setup or 0.0) + (call or 0.0) + (teardown or 0.0), 3),
        "phases": {"setup_ms": setup, "call_ms": call, "teardown_ms": teardown},
        "worker": ident.get("worker", attempt.worker),
        "attempt": attempt.attempt,
        "final": attempt.final,
        "assertions": {"passed": attempt.assertions["passed"], "failed": attempt.assertions["failed"]},
        "failure": attempt.failure,
        "reason": truncate(attempt.reason) if attempt.reason else None,
        "markers": ident.get("markers", []),
        "db": effects["db"],
        "db_queries": effects["db_queries"],
        "network": effects["network"],
        "net_urls": effects["net_urls"],
        "memory": effects["memory"],
        "cpu": effects["cpu"],
    }
