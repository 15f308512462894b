"""The pytest entry point (`pytest11`): options, consent, and the wiring of observer, assembler and recorder.

pytest imports this module at start-up in every test process, enabled or not, so it imports only the standard
library and pytest, and does nothing until recording is switched on (`--suitescope`, `SUITESCOPE=1` or ini
`suitescope = true`). Under xdist the controller decides, and tells each worker through `workerinput`; a worker
that was not told records nothing. Every hook body runs inside the guard: a failure of ours is one line in the
terminal summary and never changes an outcome, the exit status or the output of the user's tests.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from suitescope.collector.guard import Guard  # standard library only, like this module

CONTROLLER = "suitescope-controller"
OBSERVER = "suitescope-observer"
XDIST_HOOKS = "suitescope-xdist"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("suitescope", "suitescope test telemetry (opt-in)")
    group.addoption(
        "--suitescope",
        action="store_true",
        default=None,
        help="record telemetry for this run to .telemetry/<run_id>.ndjson "
        "(also: SUITESCOPE=1, or ini 'suitescope = true'). Read it with 'suitescope report'.",
    )
    group.addoption(
        "--no-suitescope",
        action="store_false",
        dest="suitescope",
        help="do not record, whatever SUITESCOPE or the ini file say.",
    )
    group.addoption(
        "--suitescope-dir",
        metavar="DIR",
        default=None,
        help="directory for run files (default: ini 'suitescope_dir', SUITESCOPE_DIR, or .telemetry in rootdir).",
    )
    group.addoption(
        "--suitescope-project",
        metavar="[VENDOR/]NAME",
        default=None,
        help="project name for the run record (default: [project].name of pyproject.toml in rootdir).",
    )
    parser.addini("suitescope", "record suitescope telemetry for every run (true/false)", type="bool", default=False)
    parser.addini("suitescope_dir", "directory for suitescope run files, relative to rootdir", default=".telemetry")


def recording_consent(config: pytest.Config) -> str | None:
    """Why recording is on ("option", "env", "ini", or for a worker what the controller said), else None."""
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None:
        consent = workerinput.get("suitescope")
        return consent if isinstance(consent, str) else None
    option = config.getoption("suitescope")
    if option is not None:
        return "option" if option else None
    env = os.environ.get("SUITESCOPE")
    if env is not None and env.strip():
        return "env" if env.strip().lower() not in ("0", "false", "no", "off") else None
    return "ini" if config.getini("suitescope") else None


# Options that make pytest show something instead of running tests: such a run is not recorded.
NOT_A_RUN = ("help", "version", "collectonly", "showfixtures", "show_fixtures_per_test", "markers", "setupplan")


def pytest_configure(config: pytest.Config) -> None:
    consent = recording_consent(config)
    if consent is None or any(config.getoption(name, False) for name in NOT_A_RUN):
        return  # the common case costs one option lookup: nothing else of suitescope is even imported
    guard = Guard()
    with guard("plugin"):
        # Imported only now, so that a run that does not record pays nothing for the collector's modules.
        from suitescope.collector.pytest_controller import Controller, WorkerReporter, XdistHooks
        from suitescope.collector.pytest_observer import Observer

        observer = Observer(config, guard)
        config.pluginmanager.register(observer, OBSERVER)
        if hasattr(config, "workerinput"):
            config.pluginmanager.register(WorkerReporter(config, guard, observer), "suitescope-worker")
            return
        controller = Controller(config, guard, consent, observer)
        config.pluginmanager.register(controller, CONTROLLER)
        if config.pluginmanager.hasplugin("xdist"):
            config.pluginmanager.register(XdistHooks(controller), XDIST_HOOKS)
    if not guard.active("plugin") and not guard.strict:
        # Configuration failed before the controller existed: still say so, once, at the end.
        config.pluginmanager.register(SummaryOnly(guard), CONTROLLER)


class SummaryOnly:
    """Stands in for the controller when setting up failed: reports that, and nothing else."""

    def __init__(self, guard: Guard) -> None:
        self.guard = guard

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        for line in self.guard.summary_lines():
            terminalreporter.write_line(line)
