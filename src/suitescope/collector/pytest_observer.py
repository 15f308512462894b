"""The part of the pytest plugin that runs where tests run: the main process, or each xdist worker.

It reads what only this process can see (the items, the live exception and its traceback, passed-assertion
events, the instruments' readings) and keeps it, per test and phase, for the assembler of the same process,
which takes it when the phase's report is logged; a phase that raised nothing costs a test and a return. A
failed collection is the exception: xdist workers collect, the controller records, so its failure travels
inside the collect report under `REPORT_ATTR`, which the controller removes before any other plugin serialises
the report.
"""

from __future__ import annotations

import os
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import pytest

from suitescope.collector.attempt import relative_file, safe_repr
from suitescope.collector.fingerprint import describe
from suitescope.collector.guard import Guard
from suitescope.collector.instrument.options import InstrumentOptions

if TYPE_CHECKING:
    from suitescope.collector.instrument.manager import Instruments

REPORT_ATTR = "_suitescope"
NO_EXTRAS: dict[str, Any] = {}  # shared and never written to
SKIP_MARKERS = frozenset({"parametrize"})


class Observer:
    """pytest hooks of the test-running process."""

    def __init__(self, config: pytest.Config, guard: Guard, options: InstrumentOptions) -> None:
        self.guard = guard
        self.root = str(config.rootpath)
        self.real_root = os.path.realpath(self.root)
        # From workerinput, not PYTEST_XDIST_WORKER: a pytest run inside an xdist worker inherits that variable.
        workerinput = getattr(config, "workerinput", None)
        self.worker: str | None = workerinput.get("workerid") if workerinput else None
        self.pass_hook = bool(config.getini("enable_assertion_pass_hook"))
        self.passed_asserts = 0
        self.failed_asserts = 0
        self.pending: dict[tuple[str, str], dict[str, Any]] = {}  # (nodeid, phase) -> what was seen
        self._markers: dict[str, list[str]] = {}
        # Names shared by the tests of a parent node, by the node's id(): nodes live as long as the session.
        self._parents: dict[int, tuple[str | None, str | None, str, list[str]]] = {}
        self._files: dict[str, str] = {}  # a test file's path relative to the root, by its path
        self.instruments: Instruments | None = None
        if options.groups:  # imported only then: a run without instruments never loads them
            from suitescope.collector.instrument.manager import Instruments

            self.instruments = Instruments(guard, options, self.real_root)
        # A teardown that raised nothing has nothing to tell either, unless instruments end there or asserts count.
        self.quiet_teardown = self.instruments is None and not self.pass_hook
        self.items: dict[str, pytest.Item] = {}  # the tests of this process by id, to name them (`identity`)

    def pytest_assertion_pass(self) -> None:
        self.passed_asserts += 1

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.items = {item.nodeid: item for item in session.items}

    # tryfirst and returning None, not a wrapper: it sees the item and the live exception before pytest builds
    # the report, and costs a plain call instead of a generator three times per test.
    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> None:
        if call.excinfo is None and (call.when != "teardown" or (self.quiet_teardown and not self.failed_asserts)):
            if call.when == "setup" and self.instruments is not None:
                self.instruments.phase("call")  # setup is over; a hook of its own at the body's start cost more
            return  # the common case: nothing was raised, and nothing ends here
        if self.guard.active("observer"):
            try:
                extras = self.extras(item, call)
                if extras:  # most call reports have nothing to add
                    self.pending[item.nodeid, call.when] = extras
            except Exception as exc:
                self.guard.fail("observer", exc)

    def take(self, report: pytest.TestReport) -> dict[str, Any]:
        """What was seen of this phase, for the assembler in this same process (empty when nothing was)."""
        return self.pending.pop((report.nodeid, report.when), NO_EXTRAS) if self.pending else NO_EXTRAS

    @pytest.hookimpl(wrapper=True)
    def pytest_make_collect_report(
        self, collector: pytest.Collector
    ) -> Generator[None, pytest.CollectReport, pytest.CollectReport]:
        report = yield
        call = report.__dict__.get("call")
        if report.failed and call is not None and call.excinfo is not None and self.guard.active("observer"):
            with self.guard("observer"):
                exc = call.excinfo.value
                # pytest wraps a failed import in CollectError `from` the real exception: describe the real one.
                cause = exc.__cause__ if isinstance(exc, pytest.Collector.CollectError) else None
                setattr(report, REPORT_ATTR, {"failure": describe(cause or exc, self.root)})
        return report

    def extras(self, item: pytest.Item, call: pytest.CallInfo[None]) -> dict[str, Any]:
        extras: dict[str, Any] = {}
        excinfo = call.excinfo
        if excinfo is not None and not excinfo.errisinstance(pytest.skip.Exception):
            extras["failure"] = describe(excinfo.value, self.root)
            if excinfo.errisinstance(AssertionError):
                self.failed_asserts += 1
        if call.when == "setup" and self.instruments is not None:  # failed or skipped: teardown comes next
            self.instruments.phase("teardown")
        if call.when == "teardown":
            if self.instruments is not None:
                extras["effects"] = self.instruments.end()
            if self.pass_hook or self.failed_asserts:
                extras["assertions"] = (self.passed_asserts if self.pass_hook else None, self.failed_asserts)
            # Counted from one teardown to the next, so asserts in the next test's fixtures count for it.
            self.passed_asserts = self.failed_asserts = 0
        return extras

    def identity(self, nodeid: str) -> dict[str, Any]:
        """What names a test of this process (empty for one it does not know: the id says what it can)."""
        item = self.items.get(nodeid)
        if item is None:
            return {}
        parent = item.parent
        shared = self._parents.get(id(parent))  # by identity: a node's `nodeid` is a property that formats
        if shared is None:
            shared = self._parents[id(parent)] = self.parent_names(item)
        cls, module, file, inherited = shared
        callspec = getattr(item, "callspec", None)
        line = item.location[1]
        own = [m.name for m in item.own_markers if m.name not in SKIP_MARKERS]
        markers = list(dict.fromkeys(own + inherited)) if own and inherited else own or inherited.copy()
        return {
            "name": item.name,
            "class": cls,
            "module": module,
            "file": file,
            "line": line + 1 if line is not None else None,
            "params": {k: safe_repr(v) for k, v in callspec.params.items()} if callspec else None,
            "markers": markers,
            "worker": self.worker,
        }

    def parent_names(self, item: pytest.Item) -> tuple[str | None, str | None, str, list[str]]:
        """Class, module, file and inherited marker names of a test: the same for every test of its parent,
        and cached per parent (`item.cls` and `item.module` walk the node chain on every access)."""
        cls = getattr(item, "cls", None)
        module = getattr(item, "module", None)
        path = str(item.path)
        file = self._files.get(path)
        if file is None:  # a module's classes share its file: resolving a path costs a system call a part
            file = self._files[path] = relative_file(path, self.real_root)
        return (
            cls.__qualname__ if cls is not None else None,
            module.__name__ if module is not None else None,
            file,
            self.inherited_markers(item.parent),
        )

    def inherited_markers(self, node: pytest.Item | pytest.Collector | None) -> list[str]:
        """Marker names of a node and its parents, nearest first, as `iter_markers` gives them; cached per
        node, since thousands of tests share a few modules and classes."""
        if node is None:
            return []
        cached = self._markers.get(node.nodeid)
        if cached is None:
            own = [m.name for m in node.own_markers if m.name not in SKIP_MARKERS]
            cached = self._markers[node.nodeid] = own + self.inherited_markers(node.parent)
        return cached


class InstrumentHooks:
    """The hooks only the instruments need, registered only when one is on: a run that records outcomes only
    pays no extra hook call per test."""

    def __init__(self, instruments: Instruments, guard: Guard) -> None:
        self.instruments = instruments
        self.guard = guard

    # tryfirst: the attempt's counters start before any fixture of the test runs.
    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self) -> None:
        if self.guard.active("instruments"):
            try:
                self.instruments.begin()
            except Exception as exc:
                self.guard.fail("instruments", exc)

    # Teardown starts here, not at the call's report: pytest 9's subtests make call reports while the body runs.
    # (The call phase starts at the setup's report, `Observer.pytest_runtest_makereport`: setup reports once.)
    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_teardown(self) -> None:
        self.instruments.phase("teardown")

    def pytest_unconfigure(self) -> None:
        with self.guard("instruments"):
            self.instruments.close()
