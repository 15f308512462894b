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
from suitescope.collector.run_options import RUN_OPTIONS

CONTROLLER = "suitescope-controller"
OBSERVER = "suitescope-observer"
INSTRUMENTS = "suitescope-instruments"
COV_DIR_ENV = "SUITESCOPE_COV_DIR"  # set by a controller that measures coverage: its xdist workers see it
GUARD = pytest.StashKey[Guard]()  # the run's one guard, made by the first hook that needs it
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
    for flag, kwargs in RUN_OPTIONS:
        group.addoption(flag, **kwargs)
    group.addoption(
        "--suitescope-affected",
        metavar="REV",
        default=None,
        help="run only the tests that the changes since git revision REV can affect, by the newest per-test "
        "coverage map in the telemetry directory (see `suitescope affected --explain`).",
    )
    group.addoption(
        "--suitescope-quarantine",
        metavar="FILE|URL",
        default=None,
        help="run the tests listed (ids a line, or suitescope's flaky findings as JSON, or their server URL) as "
        "non-strict xfail: they run and are reported, but cannot fail the run (also ini 'suitescope_quarantine').",
    )
    parser.addini("suitescope_quarantine", "a quarantine list of flaky tests (file or URL)", default="")
    parser.addini("suitescope_url", "suitescope server to send runs to (the token: SUITESCOPE_TOKEN)", default="")
    parser.addini(
        "suitescope_project_from_pyproject",
        "send the project under its pyproject.toml name (otherwise it is sent anonymous)",
        type="bool",
        default=False,
    )
    parser.addini("suitescope_redact", "extra patterns to redact before sending, one per line", type="linelist")
    parser.addini("suitescope_send_deadline", "seconds the end of a run may wait for sending (default 3)", default="3")
    parser.addini("suitescope_instruments", "instruments to run: db, net, mem, all or none", default="all")
    parser.addini("suitescope_n_plus_one", "N+1 threshold: repeats of one SELECT shape in one test", default="5")
    parser.addini("suitescope_memory", "per-test memory mode: rss, peak or tracemalloc", default="rss")
    parser.addini("suitescope", "record suitescope telemetry for every run (true/false)", type="bool", default=False)
    parser.addini("suitescope_dir", "directory for suitescope run files, relative to rootdir", default=".telemetry")


def recording_consent(config: pytest.Config) -> str | None:
    """Why recording is on ("option", "env", "ini", or for a worker what the controller said), else None."""
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None:
        consent = workerinput.get("suitescope")
        return consent if isinstance(consent, str) else None
    return consent_from(config.getoption("suitescope"), config)


def consent_from(option: bool | None, config: pytest.Config) -> str | None:
    """The command line (`option`: --suitescope / --no-suitescope / neither), then SUITESCOPE, then the ini."""
    if option is not None:
        return "option" if option else None
    env = os.environ.get("SUITESCOPE")
    if env is not None and env.strip():
        return "env" if env.strip().lower() not in ("0", "false", "no", "off") else None
    return "ini" if config.getini("suitescope") else None


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config, parser: pytest.Parser, args: list[str]) -> None:
    """`--suitescope-cov` starts measuring before conftests import the code under test, as pytest-cov does.
    xdist workers start theirs in `pytest_configure`, where the controller's data directory reaches them."""
    namespace = early_config.known_args_namespace
    sources = getattr(namespace, "suitescope_cov", None)
    worker_of_ours = os.environ.get("PYTEST_XDIST_WORKER") and os.environ.get(COV_DIR_ENV)
    if not sources or worker_of_ours or getattr(namespace, "cov_source", None):
        return  # no coverage asked for; a worker of a measuring controller; or pytest-cov measures
    if consent_from(getattr(namespace, "suitescope", None), early_config) is None:
        return
    import importlib.util

    if importlib.util.find_spec("coverage") is None:
        return  # pytest_configure stops the run with a usage error that says how to install it
    from suitescope.collector.pytest_coverage import start_coverage

    start_coverage(early_config, early_config.stash.setdefault(GUARD, Guard()), sources, None)


QUARANTINE = "suitescope-quarantine"

# Options that make pytest show something instead of running tests: such a run is not recorded.
NOT_A_RUN = ("help", "version", "collectonly", "showfixtures", "show_fixtures_per_test", "markers", "setupplan")


def pytest_configure(config: pytest.Config) -> None:
    quarantine = config.getoption("suitescope_quarantine") or config.getini("suitescope_quarantine")
    if quarantine and not config.pluginmanager.has_plugin(QUARANTINE):
        from suitescope.collector.quarantine import QuarantineHooks  # works with or without recording

        hooks = QuarantineHooks(config, quarantine)
        config.pluginmanager.register(hooks, QUARANTINE)
        hooks.setup(config)
    consent = recording_consent(config)
    if consent is None or any(config.getoption(name, False) for name in NOT_A_RUN):
        return  # the common case costs one option lookup: nothing else of suitescope is even imported
    options = checked_options(config)  # a bad value is the user's error to fix: outside the guard
    send = checked_send_settings(config)
    guard = config.stash.setdefault(GUARD, Guard())  # made early when --suitescope-cov started then
    with guard("plugin"):
        # Imported only now, so that a run that does not record pays nothing for the collector's modules.
        from suitescope.collector.pytest_controller import Controller, WorkerReporter, XdistHooks
        from suitescope.collector.pytest_coverage import start_coverage
        from suitescope.collector.pytest_observer import InstrumentHooks, Observer

        start_coverage(config, guard, config.getoption("suitescope_cov"), getattr(config, "workerinput", None))
        if config.getoption("suitescope_cov_map") and getattr(config.option, "cov_source", None):
            guard.note("--suitescope-cov-map records nothing with pytest-cov's --cov on: coverage is pytest-cov's")
        elif config.getoption("suitescope_cov_map"):
            from suitescope.collector.pytest_coverage import CoverageMapHooks

            config.pluginmanager.register(CoverageMapHooks(config, guard), "suitescope-coverage-map")
        observer = Observer(config, guard, options)
        config.pluginmanager.register(observer, OBSERVER)
        if observer.instruments is not None:
            config.pluginmanager.register(InstrumentHooks(observer.instruments, guard), INSTRUMENTS)
        if hasattr(config, "workerinput"):
            config.pluginmanager.register(WorkerReporter(config, guard, observer), "suitescope-worker")
            return
        controller = Controller(config, guard, consent, observer, send)
        config.pluginmanager.register(controller, CONTROLLER)
        if has_xdist(config):
            config.pluginmanager.register(XdistHooks(controller), XDIST_HOOKS)
    if not guard.active("plugin") and not guard.strict:
        # Configuration failed before the controller existed: still say so, once, at the end.
        config.pluginmanager.register(SummaryOnly(guard), CONTROLLER)


def has_xdist(config: pytest.Config) -> bool:
    """Whether xdist's hooks exist: by its hook specs, not its plugin's name, which is `xdist` when installed
    plugins load and `xdist.plugin` under `-p xdist.plugin` (then, asked by name, the workers were never told
    to record and the run had no tests)."""
    caller = getattr(config.hook, "pytest_configure_node", None)
    return caller is not None and caller.spec is not None


def checked_send_settings(config: pytest.Config) -> Any:
    """Whether and how to send the run; a usage error names a bad value."""
    if hasattr(config, "workerinput"):
        return None  # only the process that writes the run sends it
    from suitescope.collector.send_settings import send_settings

    named = bool(config.getoption("suitescope_project")) or bool(config.getini("suitescope_project_from_pyproject"))
    try:
        return send_settings(
            config.getoption("suitescope_url") or config.getini("suitescope_url") or None,
            named,
            config.getoption("suitescope_anonymity"),
            bool(config.getoption("suitescope_dry_run")),
            tuple(config.getini("suitescope_redact")),
            deadline=config.getini("suitescope_send_deadline"),
        )
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None


def checked_options(config: pytest.Config) -> Any:
    """The instrument options, or a usage error that names the bad value (pytest prints it and exits 4)."""
    from suitescope.collector.instrument.options import instrument_options
    from suitescope.collector.run_options import check_coverage_installed

    if config.getoption("suitescope_cov_map") and not config.getoption("suitescope_cov"):
        raise pytest.UsageError(
            "suitescope: --suitescope-cov-map needs --suitescope-cov=SOURCE (the map is taken from that measurement)"
        )
    try:
        check_coverage_installed(config.getoption("suitescope_cov"))
        return instrument_options(
            config.getoption("suitescope_instruments") or config.getini("suitescope_instruments"),
            config.getoption("suitescope_n_plus_one") or config.getini("suitescope_n_plus_one"),
            config.getoption("suitescope_memory") or config.getini("suitescope_memory"),
            bool(config.getoption("suitescope_sql_params")),
            bool(config.getoption("suitescope_block_network")),
        )
    except ValueError as exc:
        raise pytest.UsageError(f"suitescope: {exc}") from None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """`--suitescope-affected REV`: keep the tests the change can affect (in every xdist worker alike)."""
    rev = config.getoption("suitescope_affected", None)
    if not rev:
        return
    from suitescope.collector.pytest_controller import telemetry_dir
    from suitescope.coverage.affected import diff_since, parse_diff, select
    from suitescope.coverage.testmap import all_lines, latest_map

    map_file = latest_map(telemetry_dir(config))
    if map_file is None:
        raise pytest.UsageError(
            "suitescope: --suitescope-affected needs a per-test coverage map: record one first with "
            "--suitescope --suitescope-cov=SOURCE --suitescope-cov-map"
        )
    try:
        change = parse_diff(diff_since(config.rootpath, rev))
    except ValueError as exc:
        raise pytest.UsageError(f"suitescope: {exc}") from None
    selection = select([item.nodeid for item in items], all_lines(map_file), change)
    keep = [item for item in items if item.nodeid in selection.reasons]
    dropped = [item for item in items if item.nodeid not in selection.reasons]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None and not hasattr(config, "workerinput"):
        reporter.write_line(f"suitescope: {len(keep)} of {len(keep) + len(dropped)} tests affected since {rev}")


class SummaryOnly:
    """Stands in for the controller when setting up failed: reports that, and nothing else."""

    def __init__(self, guard: Guard) -> None:
        self.guard = guard

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        for line in self.guard.summary_lines():
            terminalreporter.write_line(line)
