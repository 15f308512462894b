"""Coverage in a pytest run: our own measurement for `--suitescope-cov`, or pytest-cov's figures for `--cov`.

The main process starts measuring in `pytest_load_initial_conftests` (before conftests import the code under
test); each xdist worker starts in `pytest_configure`, with the data directory the controller gave it, and
saves its data when its session ends; the controller combines them when it writes the run record. With
pytest-cov on, nothing is measured here: its combined data is read once it has finished with it.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

from suitescope.collector.guard import Guard
from suitescope.collector.pytest_plugin import COV_DIR_ENV
from suitescope.schema.records import Coverage

ENGINE = pytest.StashKey[Any]()  # this process's CoverageEngine
COV_DIR = "suitescope_cov_dir"  # the workerinput key of the shared data directory


def start_coverage(config: pytest.Config, guard: Guard, sources: list[str] | None, workerinput: Any) -> None:
    """Start this process's measurement, once; a worker only when the controller measures too."""
    if not sources or ENGINE in config.stash or getattr(config.option, "cov_source", None):
        return
    with guard("coverage"):
        from suitescope.coverage.engine import CoverageEngine

        if workerinput is not None:
            if not workerinput.get(COV_DIR):
                return
            engine = CoverageEngine(sources, Path(workerinput[COV_DIR]), workerinput["workerid"])
        else:
            engine = CoverageEngine(sources, Path(tempfile.mkdtemp(prefix="suitescope-cov-")), "main")
            # A nested pytest (pytester inside an xdist worker) inherits PYTEST_XDIST_WORKER; this says whether
            # the xdist worker is one of ours, whose measurement starts when its controller's directory reaches it.
            os.environ[COV_DIR_ENV] = str(engine.data_dir)
        config.stash[ENGINE] = engine
        engine.start()


def forget_coverage_dir() -> None:
    """The run is over: take our variable out of the environment again."""
    os.environ.pop(COV_DIR_ENV, None)


class CoverageMapHooks:
    """`--suitescope-cov-map`: at the end of each test, what it ran goes into this process's map segment.

    Only processes that run tests take: the xdist controller also sees `pytest_runtest_logfinish` (forwarded
    from the workers), and what it would take there is its own activity, not a test's.
    """

    def __init__(self, config: pytest.Config, guard: Guard) -> None:
        self.config = config
        self.guard = guard
        self.recorder: Any = None

    def map_recorder(self) -> Any:
        if self.config.pluginmanager.hasplugin("dsession") or not self.guard.active("coverage map"):
            return None  # the xdist controller: no test runs here
        if self.recorder is None:
            engine = self.config.stash.get(ENGINE, None)
            if engine is None:
                return None
            from suitescope.coverage.testmap import MapRecorder

            worker = getattr(self.config, "workerinput", {}).get("workerid")
            self.recorder = MapRecorder(engine, str(self.config.rootpath), worker)
        return self.recorder

    def pytest_runtest_logstart(self) -> None:
        recorder = self.map_recorder()
        if recorder is not None:
            with self.guard("coverage map"):
                recorder.between()

    def pytest_runtest_logfinish(self, nodeid: str) -> None:
        recorder = self.map_recorder()
        if recorder is not None:
            with self.guard("coverage map"):
                recorder.test_done(nodeid)

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self) -> None:
        """Write this process's segment before its measurement stops (a worker) or the run is merged."""
        if self.recorder is not None:
            with self.guard("coverage map"):
                self.recorder.close()


def merge_map(config: pytest.Config, guard: Guard, out: Path) -> None:
    """The run's map from every process's segment (before the data directory is cleared by `combine`)."""
    engine = config.stash.get(ENGINE, None)
    if engine is None or not config.getoption("suitescope_cov_map", False):
        return
    with guard("coverage map"):
        from suitescope.coverage.testmap import merge_segments

        merge_segments(engine.data_dir, out)


def coverage_dir(config: pytest.Config) -> str | None:
    """The directory the workers save their data into (None when this run measures nothing itself)."""
    engine = config.stash.get(ENGINE, None)
    return str(engine.data_dir) if engine is not None else None


def stop_coverage(config: pytest.Config, guard: Guard) -> None:
    """A worker's session is over: save its data for the controller."""
    engine = config.stash.get(ENGINE, None)
    if engine is not None:
        with guard("coverage"):
            engine.stop()


def run_coverage(config: pytest.Config, guard: Guard, data_file: Path) -> Coverage | None:
    """The run's totals: our combined measurement (kept at `data_file`), pytest-cov's, that of a coverage.py
    already running (`coverage run -m pytest`), or None."""
    try:
        return measured_totals(config, data_file)
    except Exception as exc:
        guard.fail("coverage", exc)
        return None


def measured_totals(config: pytest.Config, data_file: Path) -> Coverage | None:
    engine = config.stash.get(ENGINE, None)
    if engine is not None:
        forget_coverage_dir()
        return engine.combine(data_file)  # type: ignore[no-any-return]
    plugin = config.pluginmanager.getplugin("_cov")
    cov = getattr(getattr(plugin, "cov_controller", None), "cov", None)
    if cov is not None:
        from suitescope.coverage.totals import coverage_totals

        return coverage_totals(cov, "pytest-cov")
    if "coverage" not in sys.modules:
        return None  # nothing measures this process: our coverage modules stay unloaded
    from suitescope.coverage.running import running_totals

    return running_totals()
