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

from suitescope.schema.records import Status

if TYPE_CHECKING:
    from suitescope.collector.unittest_run import UnittestRun


class RecordingResult(unittest.TestResult):
    """A mixin: the first base of a result class made by `recording_result`."""

    _recording: UnittestRun | None = None
    _remote = False
    _assembler: Any = None  # the recording's assembler while this result makes records, else None

    @property
    def recording(self) -> UnittestRun | None:
        return self._recording

    @recording.setter
    def recording(self, recording: UnittestRun | None) -> None:
        self._recording = recording
        self._update()

    @property
    def remote(self) -> bool:
        """True while Django's parallel suite replays its workers' events into this result."""
        return self._remote

    @remote.setter
    def remote(self, remote: bool) -> None:
        self._remote = remote
        self._update()

    def _update(self) -> None:
        recording = self._recording
        active = recording is not None and not self._remote and recording.guard.active("result")
        self._assembler = recording.assembler if active and recording is not None else None

    def _failed(self, exc: Exception) -> None:
        """A bug of ours: the guard takes it (one summary line) and this result stops recording."""
        self._assembler = None
        if self._recording is not None:
            self._recording.guard.fail("result", exc)

    # Each callback runs unittest's (or the runner's) own first, then ours: a plain call, no dispatch by name.
    def startTest(self, test: unittest.TestCase) -> None:
        super().startTest(test)
        if self._assembler is not None:
            try:
                self._assembler.start(test)
            except Exception as exc:
                self._failed(exc)

    def stopTest(self, test: unittest.TestCase) -> None:
        if self._assembler is not None:
            try:
                self._assembler.stop(test)
            except Exception as exc:
                self._failed(exc)
        super().stopTest(test)

    def _outcome(self, test: Any, status: Status, err: Any = None, reason: str | None = None) -> None:
        if self._assembler is not None:
            try:
                self._assembler.outcome(test, status, err, reason)
            except Exception as exc:
                self._failed(exc)

    def addSuccess(self, test: unittest.TestCase) -> None:
        super().addSuccess(test)
        self._outcome(test, "passed")

    def addFailure(self, test: unittest.TestCase, err: Any) -> None:
        super().addFailure(test, err)
        self._outcome(test, "failed", err)

    def addError(self, test: unittest.TestCase, err: Any) -> None:
        super().addError(test, err)
        self._outcome(test, "error", err)

    def addSkip(self, test: unittest.TestCase, reason: str) -> None:
        super().addSkip(test, reason)
        self._outcome(test, "skipped", None, reason)

    def addExpectedFailure(self, test: unittest.TestCase, err: Any) -> None:
        super().addExpectedFailure(test, err)
        self._outcome(test, "xfailed", err)

    def addUnexpectedSuccess(self, test: unittest.TestCase) -> None:
        super().addUnexpectedSuccess(test)
        self._outcome(test, "xpassed")

    def addSubTest(self, test: unittest.TestCase, subtest: unittest.TestCase, err: Any) -> None:
        super().addSubTest(test, subtest, err)
        if self._assembler is not None and err is not None:
            try:
                self._assembler.subtest(test, subtest, err)
            except Exception as exc:
                self._failed(exc)

    # Events that Django's parallel suite replays from a worker (`ParallelTestSuite.handle_event`).
    def suitescope_record(self, test: object, line: str, fact: Any) -> None:
        recording = self.recording
        if recording is not None:
            with recording.guard("result"):
                recording.recorder.add_encoded([line], [tuple(fact)])  # a tuple, whatever pickling made of it

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
