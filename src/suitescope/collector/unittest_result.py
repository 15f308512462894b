"""The result class that records: put in front of whatever result class a runner uses (unittest's
`TextTestResult`, Django's `DebugSQLTextTestResult` or `PDBDebugResult`, a project's own), so that what the runner
prints and counts stays exactly its own.

Every callback calls the runner's own first, then hands the event to the run's `CaseAssembler` inside the guard.
Under Django's `--parallel` the records are made in the worker processes; the parent's result then only takes the
encoded records they send (`suitescope_record`) and ignores the replayed callbacks.
"""

from __future__ import annotations

import functools
import unittest
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from suitescope.collector.unittest_run import UnittestRun


class RecordingResult(unittest.TestResult):
    """A mixin: the first base of a result class made by `recording_result`."""

    recording: UnittestRun | None = None
    remote = False  # True while Django's parallel suite replays its workers' events into this result

    def _record(self, event: str, *args: Any) -> None:
        recording = self.recording
        if recording is None or self.remote or not recording.guard.active("result"):
            return
        try:
            getattr(recording.assembler, event)(*args)
        except Exception as exc:
            recording.guard.fail("result", exc)

    def startTest(self, test: unittest.TestCase) -> None:
        super().startTest(test)
        self._record("start", test)

    def stopTest(self, test: unittest.TestCase) -> None:
        self._record("stop", test)
        super().stopTest(test)

    def addSuccess(self, test: unittest.TestCase) -> None:
        super().addSuccess(test)
        self._record("outcome", test, "passed")

    def addFailure(self, test: unittest.TestCase, err: Any) -> None:
        super().addFailure(test, err)
        self._record("outcome", test, "failed", err)

    def addError(self, test: unittest.TestCase, err: Any) -> None:
        super().addError(test, err)
        self._record("outcome", test, "error", err)

    def addSkip(self, test: unittest.TestCase, reason: str) -> None:
        super().addSkip(test, reason)
        self._record("outcome", test, "skipped", None, reason)

    def addExpectedFailure(self, test: unittest.TestCase, err: Any) -> None:
        super().addExpectedFailure(test, err)
        self._record("outcome", test, "xfailed", err)

    def addUnexpectedSuccess(self, test: unittest.TestCase) -> None:
        super().addUnexpectedSuccess(test)
        self._record("outcome", test, "xpassed")

    def addSubTest(self, test: unittest.TestCase, subtest: unittest.TestCase, err: Any) -> None:
        super().addSubTest(test, subtest, err)
        self._record("subtest", test, subtest, err)

    # Events that Django's parallel suite replays from a worker (`ParallelTestSuite.handle_event`).
    def suitescope_record(self, test: object, line: str, fact: Any) -> None:
        recording = self.recording
        if recording is not None:
            with recording.guard("result"):
                recording.recorder.add_encoded(line, tuple(fact))  # a tuple, whatever pickling made of it

    def suitescope_worker(self, test: object, usage: list[Any], problems: list[str]) -> None:
        recording = self.recording
        if recording is not None:
            with recording.guard("result"):
                recording.worker_done(usage, problems)


@functools.cache
def recording_result(base: type[unittest.TestResult]) -> type[RecordingResult]:
    """`base` with recording in front of it (one class per base, made once)."""
    if issubclass(base, RecordingResult):
        return base
    return type(f"Recording{base.__name__}", (RecordingResult, base), {"__module__": __name__})
