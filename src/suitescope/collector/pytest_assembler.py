"""Turns pytest's phase reports (setup, call, teardown) into one finished `Attempt` per attempt of a test.

Runs in the process that writes the file: the main process, or the xdist controller, where reports from every
worker arrive interleaved; attempts in flight are therefore keyed by (worker, nodeid). The status rules follow
what pytest itself reports, with one record per attempt instead of one line per report:

- a failure in setup is `error` (when=setup); a passed call whose teardown fails is `error` (when=teardown);
- a skip in setup or call is `skipped`, or `xfailed` when the report carries `wasxfail`;
- a passing xfail test is `xpassed`, a strict one `failed` with type `XPASS(strict)`, as pytest counts it;
- pytest-rerunfailures' `rerun` outcome marks an attempt that was retried: kept, with `final` false.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from suitescope.collector.attempt import INTERRUPTED, PARAM_LIMIT, Attempt
from suitescope.collector.fingerprint import describe_text, truncate
from suitescope.collector.guard import Guard
from suitescope.collector.pytest_observer import NO_EXTRAS, REPORT_ATTR, Observer
from suitescope.schema.records import Failure, Phase

XPASS_STRICT = "[XPASS(strict)]"
ASSEMBLE_REPORTS = 192  # 64 tests of 3 phases
ASSEMBLE_EVERY_S = 1.0
Report = pytest.TestReport | pytest.CollectReport


def take_extras(report: Report) -> dict[str, Any]:
    """The observer's data for this report, removed so that no other plugin serialises it."""
    extras: dict[str, Any] = report.__dict__.pop(REPORT_ATTR, None) or {}
    return extras


def worker_of(report: pytest.TestReport) -> str | None:
    worker: str | None = report.__dict__.get("worker_id")  # set on reports that came from an xdist worker
    if worker is None and "node" in report.__dict__:  # xdist's report for a crashed worker
        worker = getattr(getattr(report.__dict__["node"], "gateway", None), "id", None)
    return worker


class Assembler:
    """Feeds finished attempts to `emit`."""

    def __init__(
        self,
        emit: Callable[[Attempt], None],
        identify: Callable[[str], dict[str, Any]] = lambda nodeid: {},
        failed_subtests: Callable[[], Mapping[Any, int] | None] = lambda: None,
    ) -> None:
        """`identify` names a test of this process by its id (`Attempt.identity`; empty for a test it did not
        run); `failed_subtests` gives how many `subtests.test()` blocks of each test failed in this process, by
        the report's `id` (None when nothing counts them)."""
        self.emit = emit
        self.identify = identify
        self.failed_subtests = failed_subtests
        self.subtest_failed = False  # whether a subtest has failed in this process (pytest logs it before its test)
        self.pending: dict[tuple[str | None, str], Attempt] = {}

    def assemble(self, reports: list[pytest.TestReport], extras: list[dict[str, Any]]) -> None:
        """Phase reports in the order they were logged, and what the observer of this process saw of each
        phase (`Observer.take`)."""
        if len(reports) != len(extras):
            raise ValueError(f"{len(reports)} reports and {len(extras)} extras")
        on_test_report, passed_test = self.on_test_report, self.passed_test
        at, count = 0, len(reports)
        while at < count:
            if (
                at + 2 < count
                and not extras[at]
                and not extras[at + 1]
                and passed_test(reports[at], reports[at + 1], reports[at + 2], extras[at + 2])
            ):
                at += 3
                continue
            on_test_report(reports[at], extras[at])
            at += 1

    def passed_test(
        self, setup: pytest.TestReport, call: pytest.TestReport, teardown: pytest.TestReport, extras: dict[str, Any]
    ) -> bool:
        """Three reports that are the passed setup, call and teardown of one test, as most are: made into its
        attempt at once, without the bookkeeping of an attempt in flight that `on_test_report` does for each
        report (a third fewer instructions a test). Anything else (another outcome, an xfail, a subtest, a
        crashed worker's report, reports of two tests) returns False, and the reports go one by one."""
        first, middle, last = setup.__dict__, call.__dict__, teardown.__dict__
        node = first.get("_id")
        if (
            node is None
            or middle.get("_id") is not node
            or last.get("_id") is not node
            or first.get("when") != "setup"
            or middle.get("when") != "call"
            or last.get("when") != "teardown"
            or first.get("outcome") != "passed"
            or middle.get("outcome") != "passed"
            or last.get("outcome") != "passed"
            or "wasxfail" in middle
            or "context" in middle  # pytest's subtests report as a call
            or "worker_id" in first
            or self.subtest_failed
        ):
            return False
        nodeid = getattr(node, "_str_cache", None) or setup.nodeid
        if self.pending:  # a setup whose test never reported its teardown: closed first, as `open` does
            previous = self.pending.pop((None, nodeid), None)
            if previous is not None:
                self.emit(previous)
        attempt = Attempt(nodeid, first.get("start"), None, first.get("rerun", 0) + 1)
        attempt.identity = self.identify(nodeid)
        attempt.setup_ms = setup.duration * 1000
        attempt.call_ms = call.duration * 1000
        attempt.teardown_ms = teardown.duration * 1000
        attempt.stop = last.get("stop") or middle.get("stop") or first.get("stop")
        if extras:
            if "assertions" in extras:
                attempt.passed_asserts, attempt.failed_asserts = extras["assertions"]
            attempt.effects = extras.get("effects", attempt.effects)
        self.emit(attempt)
        return True

    def on_test_report(self, report: pytest.TestReport, extras: dict[str, Any] = NO_EXTRAS) -> None:
        fields = report.__dict__
        worker = fields.get("worker_id")
        if worker is None and "node" in fields:
            worker = worker_of(report)
        # pytest 9 makes `nodeid` a property that formats its structured id (a fifth of this method's time);
        # the id keeps the string it was made from, which is the same.
        key = (worker, getattr(fields.get("_id"), "_str_cache", None) or report.nodeid)
        when: str = report.when  # plugins widen pytest's literals: "rerun" outcomes, xdist's "???" phase
        if "context" in fields and type(report).__name__ == "SubtestReport":  # pytest's own subtests (9.0+)
            self.on_subtest(report, self.pending.get(key), extras)
            return
        attempt = self.pending.get(key) if when != "setup" else None
        if attempt is None:
            attempt = self.open(key, fields)
        if extras:
            if "assertions" in extras:
                attempt.passed_asserts, attempt.failed_asserts = extras["assertions"]
            attempt.effects = extras.get("effects", attempt.effects)
        ms = report.duration * 1000
        if when == "call":
            attempt.call_ms = ms
        elif when == "setup":
            attempt.setup_ms = ms
        elif when == "teardown":
            attempt.teardown_ms = ms
        attempt.stop = fields.get("stop") or attempt.stop
        if report.outcome != "passed" or "wasxfail" in fields:
            self.apply(attempt, report, when, extras.get("failure"))
        elif when == "call" and self.subtest_failed and attempt.status == "passed":
            self.fail_by_subtests(attempt, report)
        if when == "teardown" or when == "???":
            del self.pending[key]
            self.emit(attempt)

    def open(self, key: tuple[str | None, str], fields: dict[str, Any]) -> Attempt:
        """A new attempt; one still open for the same test (a setup report came before its teardown) is
        closed first."""
        previous = self.pending.get(key)
        if previous is not None:
            self.emit(previous)
        attempt = self.pending[key] = Attempt(key[1], fields.get("start"), key[0], fields.get("rerun", 0) + 1)
        attempt.identity = self.identify(key[1])
        return attempt

    def fail_by_subtests(self, attempt: Attempt, report: pytest.TestReport) -> None:
        """pytest fails a passed test whose `subtests.test()` blocks failed, in its terminal reporter's
        `pytest_report_teststatus`, after this hook has seen the report: the same rule, applied here."""
        counts = self.failed_subtests()
        count = counts.get(getattr(report, "id", None), 0) if counts else 0  # .get: a defaultdict, not to grow
        if count:
            message = f"contains {count} failed subtest{'s' if count > 1 else ''}"
            attempt.fail("failed", "call", describe_text("SubTestFailure", message, attempt.nodeid))

    def on_subtest(self, report: Any, parent: Attempt | None, extras: dict[str, Any]) -> None:
        """A failed `subtests.test()` block or unittest `subTest` under pytest: a record of its own (`when:
        subtest`), as pytest counts it among the failed; the test keeps the status of its own reports."""
        if report.outcome != "failed":
            return  # pytest counts passed and skipped subtests apart; they are not records
        self.subtest_failed = True
        context = report.context
        kwargs = dict(getattr(context, "kwargs", None) or {})
        msg = getattr(context, "msg", None)
        described = " ".join(
            ([f"[{msg}]"] if msg is not None else [])
            + ([f"({', '.join(f'{k}={v}' for k, v in kwargs.items())})"] if kwargs else [])
        )
        record = Attempt(report.nodeid, report.__dict__.get("start"), parent.worker if parent else None, 1)
        identity = dict(parent.identity) if parent is not None else {}
        identity["name"] = f"{identity.get('name') or report.nodeid.rpartition('::')[2]} {described or '(<subtest>)'}"
        identity["params"] = {k: truncate(v, PARAM_LIMIT) for k, v in kwargs.items()} or None
        record.identity = identity
        record.stop = report.__dict__.get("stop")
        failure = extras.get("failure") or crash_failure(report)
        record.fail("failed", "subtest", failure)
        self.emit(record)

    def apply(self, attempt: Attempt, report: pytest.TestReport, when: str, failure: Failure | None) -> None:
        """What a report that did not simply pass says of its attempt."""
        outcome: str = report.outcome
        wasxfail = report.__dict__.get("wasxfail")
        if outcome == "rerun":
            attempt.final = False
        if when == "???":  # xdist: the worker died while running this test
            attempt.fail("failed", "crash", describe_text("WorkerCrash", str(report.longrepr), report.nodeid))
        elif outcome in ("failed", "rerun"):
            self.apply_failure(attempt, report, failure)
        elif outcome == "skipped":
            attempt.status = "xfailed" if wasxfail is not None else "skipped"
            attempt.reason = wasxfail if wasxfail is not None else skip_reason(report)
            attempt.failure = failure if wasxfail is not None else None
        elif when == "call" and wasxfail is not None:
            attempt.status, attempt.reason = "xpassed", wasxfail or None

    def apply_failure(self, attempt: Attempt, report: pytest.TestReport, failure: Failure | None) -> None:
        when: str = report.when
        longrepr = report.longrepr
        if isinstance(longrepr, str) and longrepr.startswith(XPASS_STRICT):
            reason = longrepr[len(XPASS_STRICT) :].strip()
            attempt.fail("failed", "call", describe_text("XPASS(strict)", reason, report.nodeid))
            attempt.reason = reason or None
            return
        if failure is None:  # no observer data (it failed, or the report came from elsewhere)
            failure = describe_text("Error", str(longrepr or ""), report.nodeid)
        phase: Phase = "setup" if when == "setup" else "teardown" if when == "teardown" else "call"
        attempt.fail("failed" if phase == "call" else "error", phase, failure)

    def on_collect_report(self, report: pytest.CollectReport) -> None:
        """A file (or class) that failed to collect becomes one `error` record, so it is never silent."""
        failure = take_extras(report).get("failure") or describe_text(
            "CollectionError", str(report.longrepr or ""), report.nodeid
        )
        attempt = Attempt(report.nodeid, None, None, 1)
        attempt.fail("error", "collect", failure)
        self.emit(attempt)

    def interrupt(self) -> None:
        """Close the attempts that were running when the run stopped (Ctrl-C): they end as errors."""
        for attempt in self.pending.values():
            phase: Phase = "call" if attempt.setup_ms is not None else "setup"
            attempt.fail("error", phase, INTERRUPTED)
            self.emit(attempt)
        self.pending.clear()


class WaitingReports:
    """Phase reports of this process waiting to be assembled together, with what the observer saw of each.

    They wait because the same work done in one loop, its code warm in the CPU's caches, costs less: inside a
    5,000-test run, 26 us a test one test at a time against 22 us in batches of 64 tests. Larger batches cost
    less inside these hooks (19.5 us at 1,000) and more outside them: what waits outlives the garbage
    collector's young collections, and what that moves to its oldest generation brought one more full
    collection of the whole heap (50-70 ms in that run, measured with `gc.callbacks`). pytest's terminal
    reporter keeps every report anyway: holding them a little longer costs no memory. A report waits at most a
    second, as the sink's lines do, and none waits before the first record has gone out: a run in progress
    shows at once.
    """

    def __init__(self, assembler: Assembler, guard: Guard, emitted: Callable[[], bool], observer: Observer) -> None:
        """`emitted` says whether a record has gone out yet (until then no report waits)."""
        self.assembler = assembler
        self.guard = guard
        self.emitted = emitted
        self.observer = observer
        # Two lists side by side, not a list of pairs: a pair per report would be one more object for the
        # garbage collector to track, and moved to its oldest generation when it outlives a collection.
        self.reports: list[pytest.TestReport] = []
        self.extras: list[dict[str, Any]] = []
        self.due = 0.0  # monotonic time of the next assembling

    def add(self, report: pytest.TestReport) -> None:
        """Keep a report with what the observer saw of its phase (most often nothing); assemble the batch when
        it is full or its oldest report has waited long enough."""
        reports = self.reports
        reports.append(report)
        self.extras.append(self.observer.take(report) if self.observer.pending else NO_EXTRAS)
        if len(reports) >= ASSEMBLE_REPORTS or time.monotonic() >= self.due:
            self.assemble()

    def assemble(self) -> None:
        reports, extras, self.reports, self.extras = self.reports, self.extras, [], []
        if self.guard.active("assembler"):
            try:
                self.assembler.assemble(reports, extras)
            except Exception as exc:
                self.guard.fail("assembler", exc)
        self.due = time.monotonic() + ASSEMBLE_EVERY_S if self.emitted() else 0.0


def crash_failure(report: pytest.TestReport) -> Failure:
    """A failure known from its report only (no observer saw the exception): `Type: message` of pytest's
    crash line when it has one."""
    crash = getattr(report.longrepr, "reprcrash", None)
    message = str(getattr(crash, "message", "") or report.longrepr or "")
    exc_type, sep, rest = message.partition(": ")
    if sep and exc_type.replace(".", "").replace("_", "").isalnum():
        return describe_text(exc_type, rest, report.nodeid)
    return describe_text("Error", message, report.nodeid)


def skip_reason(report: pytest.TestReport) -> str | None:
    """pytest stores a skip as (path, line, "Skipped: reason")."""
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        text = str(longrepr[2])
        return text.removeprefix("Skipped: ") or None
    return None
