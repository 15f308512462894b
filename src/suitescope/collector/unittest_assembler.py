"""Turns unittest's result callbacks into test records, in the process that runs the tests.

unittest calls `startTest`, one outcome (`addSuccess`, `addFailure`, ...), any number of `addSubTest`, then
`stopTest`; class and module fixtures that fail are reported through an `_ErrorHolder` that is not a test. The
statuses mirror unittest's own summary (docs/schema.md), so the run's counts equal what unittest prints:

- `addFailure` is `failed` and `addError` is `error`, whatever the phase; `when` names the phase;
- a failed `subTest` block is its own record (`when: subtest`); its test is `failed` unless it failed itself;
- a failed `setUpClass` (and the rest) is one record for the class or module (`when: setup_class`, ...);
- a module that failed to import (`_FailedTest`) is an `error` with `when: collect`, as under pytest.
"""

from __future__ import annotations

import inspect
import re
import sys
import time
import unittest
from collections.abc import Callable
from types import TracebackType
from typing import Any

from suitescope.collector.attempt import INTERRUPTED, Attempt, relative_file, safe_repr
from suitescope.collector.fingerprint import describe, describe_text
from suitescope.collector.guard import Guard
from suitescope.collector.unittest_patches import CLOCK, Patches
from suitescope.schema.records import Failure, Phase, Status

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None] | tuple[None, None, None]

# The frame of unittest's TestCase that a traceback passes through names the phase a failure happened in.
TRACEBACK_PHASES: dict[str, Phase] = {
    "_callSetUp": "setup",
    "_callTestMethod": "call",
    "_callTearDown": "teardown",
    "doCleanups": "teardown",
}
FIXTURES: dict[str, Phase] = {
    "setUpClass": "setup_class",
    "tearDownClass": "teardown_class",
    "setUpModule": "setup_module",
    "tearDownModule": "teardown_module",
}
FIXTURE_DESCRIPTION = re.compile(r"^(\w+) \((.+)\)$")  # `setUpClass (pkg.tests.CartTest)`
FAILED_IMPORT = getattr(unittest.loader, "_FailedTest", None)


class CaseAssembler:
    """Builds one record per test (and per failed subtest or fixture) and hands it to `emit`."""

    def __init__(
        self,
        real_root: str,
        guard: Guard,
        emit: Callable[[Attempt], None],
        make_instruments: Callable[[], Any] | None = None,
        worker: str | None = None,
    ) -> None:
        """`make_instruments` makes the instruments (or None) when the first test starts in this process: Django's
        parallel parent never runs a test, so it never installs any that its forked workers would inherit."""
        self.real_root = real_root
        self.guard = guard
        self.emit = emit
        self.make_instruments = make_instruments
        self.instruments: Any = None  # an Instruments once made, or None when every instrument is off
        self.worker = worker
        self.patches = Patches()
        self.coverage_map: Any = None  # a MapRecorder with --suitescope-cov-map
        self.current: Attempt | None = None
        self.test: object = None  # the test that `current` is an attempt of
        self.started = 0.0
        self.failed_subtests: list[str] = []
        self.reported = False  # the running test had its outcome (addSuccess, addFailure, ...)
        self._classes: dict[type, dict[str, Any]] = {}
        self._files: dict[str, str | None] = {}

    # -- the callbacks, in the order unittest makes them

    def start(self, test: unittest.TestCase) -> None:
        if self.make_instruments is not None:
            make, self.make_instruments = self.make_instruments, None
            self.instruments = make()
            CLOCK.on_phase = self.instruments.phase if self.instruments is not None else None
        self.patches.prepare(type(test))
        if self.coverage_map is not None:
            self.coverage_map.between()
        CLOCK.reset()
        self.failed_subtests = []
        self.reported = False
        self.test = test
        attempt = self.current = Attempt(test.id(), time.time(), self.worker, 1)
        attempt.identity = self.identity(test)
        if self.instruments is not None:
            self.instruments.begin()
        self.started = time.perf_counter()

    def outcome(self, test: Any, status: Status, err: ExcInfo | None = None, reason: str | None = None) -> None:
        """One of addSuccess/addFailure/addError/addSkip/addExpectedFailure/addUnexpectedSuccess."""
        if not hasattr(test, "_testMethodName"):  # an _ErrorHolder: a class or module fixture
            self.fixture(test, status, err, reason)
            return
        attempt = self.current
        if attempt is None or test is not self.test:
            return
        self.reported = True
        failure = self.failure(err)
        if status in ("failed", "error"):
            attempt.fail(status, self.phase_of(err), failure)
        elif status == "skipped":
            attempt.status, attempt.reason = "skipped", reason or None
        elif status == "xfailed":
            attempt.status, attempt.failure = "xfailed", failure
        elif status == "xpassed":
            attempt.status = "xpassed"

    def subtest(self, test: unittest.TestCase, subtest: Any, err: ExcInfo | None) -> None:
        if err is None or self.current is None:
            return
        description = subtest._subDescription() if hasattr(subtest, "_subDescription") else str(subtest)
        self.failed_subtests.append(description)
        failed = err[0] is not None and issubclass(err[0], test.failureException)
        record = Attempt(test.id(), time.time(), self.worker, 1)
        record.identity = dict(self.current.identity)
        record.identity["name"] = f"{record.identity['name']} {description}"
        params = getattr(subtest, "params", None)
        record.identity["params"] = {str(k): safe_repr(v) for k, v in params.items()} if params else None
        record.fail("failed" if failed else "error", "subtest", self.failure(err))
        record.passed_asserts = 0  # counted in the test's own record
        record.stop = record.start
        self.emit(record)

    def stop(self, test: unittest.TestCase) -> None:
        attempt, self.current = self.current, None
        if attempt is None or test is not self.test:
            return
        now = time.perf_counter()
        self.split_phases(attempt, now)
        attempt.stop = time.time()
        attempt.passed_asserts, attempt.failed_asserts = CLOCK.passed, CLOCK.failed
        if not self.reported and isinstance(sys.exc_info()[1], KeyboardInterrupt):  # Ctrl-C: unittest's finally
            attempt.fail("error", self.phase_of(sys.exc_info()), INTERRUPTED)
        if self.failed_subtests and attempt.status == "passed":
            attempt.fail("failed", "call", subtests_failure(self.failed_subtests, attempt.nodeid))
        if FAILED_IMPORT is not None and isinstance(test, FAILED_IMPORT):
            self.failed_import(attempt, test)
        if self.instruments is not None:
            attempt.effects = self.instruments.end()
        if self.coverage_map is not None:
            self.coverage_map.test_done(attempt.nodeid)
        self.emit(attempt)

    # -- the parts

    def split_phases(self, attempt: Attempt, now: float) -> None:
        """Setup runs from startTest to the end of setUp, call to the end of the test method, teardown to
        stopTest; a test skipped before setUp has only a setup phase."""
        setup_end, call_end = CLOCK.setup_end, CLOCK.call_end
        if setup_end is None:
            attempt.setup_ms = (now - self.started) * 1000
            return
        attempt.setup_ms = (setup_end - self.started) * 1000
        if call_end is None:
            attempt.teardown_ms = (now - setup_end) * 1000
            return
        attempt.call_ms = (call_end - setup_end) * 1000
        attempt.teardown_ms = (now - call_end) * 1000

    def failure(self, err: ExcInfo | None) -> Failure | None:
        if err is None or err[1] is None:
            return None
        exc = err[1]
        if exc.__traceback__ is None and err[2] is not None:
            exc = exc.with_traceback(err[2])
        return describe(exc, self.real_root)

    def phase_of(self, err: ExcInfo | None) -> Phase:
        """The phase whose frame the traceback passes through; else where the clock says the test is."""
        tb = err[2] if err is not None else None
        while tb is not None:
            phase = TRACEBACK_PHASES.get(tb.tb_frame.f_code.co_name)
            if phase is not None:
                return phase
            tb = tb.tb_next
        if CLOCK.setup_end is None:
            return "setup"
        return "call" if CLOCK.call_end is None else "teardown"

    def fixture(self, holder: Any, status: Status, err: ExcInfo | None, reason: str | None) -> None:
        """A class or module fixture that failed or skipped: one record for the class or module."""
        description = getattr(holder, "description", None) or str(holder)
        match = FIXTURE_DESCRIPTION.match(description)
        method, parent = match.groups() if match else ("setUpClass", description)
        when = FIXTURES.get(method, "setup_class")
        module, _, cls = parent.rpartition(".") if when.endswith("_class") else (parent, "", "")
        record = Attempt(parent, time.time(), self.worker, 1)
        record.identity = {
            "name": method,
            "class": cls or None,
            "module": module or None,
            "file": self.module_file(module),
            "worker": self.worker,
        }
        if status == "skipped":
            record.status, record.when, record.reason = "skipped", when, reason or None
        else:
            record.fail("error" if status == "error" else "failed", when, self.failure(err))
        record.passed_asserts = 0
        record.stop = record.start
        self.emit(record)

    def failed_import(self, attempt: Attempt, test: unittest.TestCase) -> None:
        """unittest's stand-in for a module it could not import: a collection error named after the module."""
        module = test._testMethodName
        attempt.nodeid = module
        attempt.identity = {"name": module, "module": module, "file": None, "worker": self.worker}
        attempt.status, attempt.when = "error", "collect"

    def identity(self, test: unittest.TestCase) -> dict[str, Any]:
        """What names a test: its class's part is worked out once per class, the method's line per test."""
        cls = type(test)
        name = getattr(test, "_testMethodName", "") or test.id().rpartition(".")[2]
        shared = self._classes.get(cls)
        if shared is None:
            shared = self._classes[cls] = {
                "class": cls.__qualname__,
                "module": cls.__module__,
                "file": self.module_file(cls.__module__),
                "params": None,
                "markers": sorted({str(t) for t in getattr(cls, "tags", ())}),  # Django's @tag
                "worker": self.worker,
            }
        method = getattr(cls, name, None)
        code = getattr(method, "__code__", None)
        if code is None and method is not None and hasattr(method, "__wrapped__"):
            code = getattr(inspect.unwrap(method), "__code__", None)
        identity = {**shared, "name": name, "line": code.co_firstlineno if code is not None else None}
        method_tags = getattr(method, "tags", None)
        if method_tags:
            identity["markers"] = sorted({*shared["markers"], *map(str, method_tags)})
        return identity

    def module_file(self, module: str | None) -> str | None:
        if not module:
            return None
        if module not in self._files:
            path = getattr(sys.modules.get(module), "__file__", None)
            self._files[module] = relative_file(path, self.real_root) if path else None
        return self._files[module]

    def close(self) -> None:
        """The run is over: take every wrapper off the framework's classes, restore what the instruments patched."""
        CLOCK.on_phase = None
        self.patches.uninstall()
        if self.instruments is not None:
            self.instruments.close()


def count_tests(test: Any) -> int:
    """Tests in a suite, without unittest's stand-ins for modules that failed to import (as pytest's count)."""
    if FAILED_IMPORT is not None and isinstance(test, FAILED_IMPORT):
        return 0
    if isinstance(test, unittest.TestSuite):
        return sum(count_tests(t) for t in test)
    return int(test.countTestCases())


def subtests_failure(descriptions: list[str], test_id: str) -> Failure:
    """The failure of a test whose own body passed while some of its subtests failed."""
    shown = ", ".join(descriptions[:5]) + (", …" if len(descriptions) > 5 else "")
    count = len(descriptions)
    message = f"{count} subtest{'s' if count > 1 else ''} failed: {shown}"
    return describe_text("SubTestFailure", message, test_id)
