"""The hooks of a recording run, registered by `pytest_plugin.pytest_configure` once recording is on.

`Controller` runs in the process that writes the run (the main process or the xdist controller): it feeds
pytest's reports to the assembler and writes the run record at the end. `WorkerReporter` runs on each xdist worker
and `XdistHooks` on the controller, only when xdist is installed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from suitescope.collector.attempt import Attempt, AttemptEncoder
from suitescope.collector.environment import project_from_pyproject
from suitescope.collector.guard import Guard
from suitescope.collector.pytest_assembler import Assembler, WaitingReports
from suitescope.collector.pytest_coverage import COV_DIR, coverage_dir, merge_map, run_coverage, stop_coverage
from suitescope.collector.pytest_observer import Observer
from suitescope.collector.recorder import ProcessUsage, Recorder, RunEnd, RunInfo, own_usage
from suitescope.collector.run_options import option_names, split_project
from suitescope.collector.send_settings import SendSettings, token_in_config
from suitescope.schema.codec import encode
from suitescope.schema.ids import new_run_id
from suitescope.schema.records import Configuration, Framework, RunState
from suitescope.schema.summary import Facts

WORKER_USAGE = "suitescope_usage"
WORKER_PROBLEMS = "suitescope_problems"
WORKER_RECORDS = "suitescope_records"
RECORDS_ATTR = "_suitescope_records"
PYTEST: Framework = {"name": "pytest", "version": pytest.__version__}


def telemetry_dir(config: pytest.Config) -> Path:
    chosen = config.getoption("suitescope_dir") or os.environ.get("SUITESCOPE_DIR") or config.getini("suitescope_dir")
    return config.rootpath / str(chosen)


class Controller:
    """Hooks of the process that writes the run: assembles test records and the run record."""

    def __init__(self, config: pytest.Config, guard: Guard, consent: str, observer: Observer, send: Any) -> None:
        self.config = config
        self.send: SendSettings = send
        self.sender: Any = None  # a sending.RunSender while the run is being sent
        self.guard = guard
        self.consent = consent
        self.expected: int | None = None
        self.workers = 0
        self.worker_usage: list[ProcessUsage] = []
        self.lost_workers = 0
        self.keyboard_interrupt = False
        self.worker_problems: dict[str, list[str]] = {}  # summary line -> the workers that had it
        project, vendor = split_project(
            config.getoption("suitescope_project") or project_from_pyproject(config.rootpath)
        )
        self.recorder = Recorder(
            RunInfo(
                new_run_id(),
                telemetry_dir(config),
                project,
                vendor,
                {
                    "recording": consent,
                    "sending": send.sending,
                    "anonymity": send.anonymity if send.active else None,
                },
            ),
            guard,
        )
        self.observer = observer
        self.assembler = Assembler(self.recorder.add_attempt, observer.identity, subtests_of(config))
        self.waiting = WaitingReports(self.assembler, guard, lambda: self.recorder.sink.written > 0, observer)

    @property
    def run_id(self) -> str:
        return self.recorder.run_id

    def configuration(self) -> Configuration:
        seed = self.config.getoption("randomly_seed", None)
        reruns = self.config.getoption("reruns", None)
        return {
            "workers": self.workers,
            "reruns": reruns if isinstance(reruns, int) else None,
            "randomly_seed": seed if isinstance(seed, int) else None,
            "plugins": plugin_versions(self.config),
            "options": option_names(self.config.invocation_params.args),
        }

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        with self.guard("environment"):
            self.recorder.start(PYTEST, self.config.rootpath)

    @pytest.hookimpl(tryfirst=True)
    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            with self.guard("assembler"):
                self.assembler.on_collect_report(report)

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        if not hasattr(self.config, "workerinput") and self.expected is None and session.items:
            self.expected = len(session.items)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        fields = report.__dict__
        if RECORDS_ATTR in fields:  # assembled by the xdist worker that ran the test
            with self.guard("recorder"):
                self.add_from_worker(fields.pop(RECORDS_ATTR))
        elif "worker_id" not in fields or str(report.when) == "???":
            # Tests of this process, and xdist's report of a test whose worker died (made here, not there).
            self.waiting.add(report)

    def add_from_worker(self, batch: tuple[str, str] | tuple[()]) -> None:
        """A batch of records an xdist worker encoded (`WorkerReporter.batch`): their lines, and their tally
        facts as one JSON array."""
        if not batch:
            return
        text, encoded_facts = batch
        lines, facts = text.split("\n"), [tuple(fact) for fact in json.loads(encoded_facts)]
        if len(lines) != len(facts):
            raise ValueError(f"a worker's batch of {len(lines)} records came with {len(facts)} facts")
        self.recorder.add_encoded(lines, facts)

    def pytest_keyboard_interrupt(self, excinfo: pytest.ExceptionInfo[BaseException]) -> None:
        # pytest raises Session.Interrupted (a KeyboardInterrupt) itself for collection errors and -x.
        self.keyboard_interrupt = not excinfo.errisinstance(pytest.Session.Interrupted)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        # Only a real interrupt (Ctrl-C, pytest.exit) makes the run state "interrupted".
        self.finish(int(exitstatus), "interrupted" if self.keyboard_interrupt else "completed")

    def finish(self, exit_status: int | None, state: RunState) -> None:
        if self.guard.active("assembler"):
            self.waiting.assemble()
        with self.guard("assembler"):
            self.assembler.interrupt()
        with self.guard("recorder"):
            if self.recorder.environment is None:  # the session never started: there is no run to write
                return
            expected = self.expected if self.expected is not None else (0 if self.workers == 0 else None)
            instruments = self.observer.instruments
            self.recorder.finish(
                RunEnd(
                    exit_status,
                    state,
                    expected,
                    self.configuration(),
                    self.worker_usage,
                    self.lost_workers,
                    instruments.process_peak_kb() if instruments else None,
                    instruments.groups if instruments else frozenset(),
                    self.coverage(),
                )
            )
        if self.send.active and self.guard.active("sink"):
            with self.guard("sender"):
                from suitescope.collector.sending import RunSender  # its HTTP client only for a run that sends

                self.sender = RunSender(self.send, self.recorder.sink.path, self.config.rootpath)
                self.sender.start()  # sends while pytest prints its summary; waited for at its end

    def coverage(self) -> Any:
        """The run's coverage totals; with --suitescope-cov-map, the per-test map merged first."""
        merge_map(self.config, self.guard, self.recorder.sink.path.with_suffix(".testmap"))
        return run_coverage(self.config, self.guard, self.recorder.sink.path.with_suffix(".coverage"))

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        with self.guard("summary"):
            lines = self.guard.summary_lines()
            lines += [f"{line} (xdist workers {', '.join(sorted(ids))})" for line, ids in self.worker_problems.items()]
            if self.config.getoption("verbose") > 0 and self.guard.active("sink"):
                lines.append(f"suitescope: wrote {self.recorder.sink.path} ({self.recorder.sink.written} records)")
            if self.send.sending:
                lines += filter(None, [token_in_config(self.config.inipath)])
            if self.sender is not None:
                lines.append(self.sender.wait())
                self.sender = None
            for line in lines:
                terminalreporter.write_line(line)

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        """A run that never reached sessionfinish (an internal error) still gets its run record; a sender
        nobody waited for (no terminal summary) gets what is left of its deadline."""
        with self.guard("recorder"):
            if self.recorder.run is None and self.recorder.environment is not None:
                self.finish(None, "crashed")
        if self.sender is not None:
            with self.guard("sender"):
                self.sender.wait()


class WorkerReporter:
    """On an xdist worker: assembles the records of its tests where they ran, and reports its usage.

    Finished records travel to the controller inside a report (`RECORDS_ATTR`), so the controller, which
    handles every worker's reports in one process, only tallies and writes. The reports are assembled in
    batches, as the controller assembles its own (`Controller.assemble`; on a worker, whose CPU is the suite's,
    it took 70 us a test one report at a time): a batch's records go with the report that ended it, at most a
    second after their test, and what is left at the end goes back through `workeroutput` with the worker's
    peak memory, CPU time and any failure of its own. A worker killed outright loses its last second of records.
    """

    def __init__(self, config: pytest.Config, guard: Guard, observer: Observer) -> None:
        self.config = config
        self.guard = guard
        run_id = config.workerinput["suitescope_run_id"]  # type: ignore[attr-defined]
        self.observer = observer
        self.encode = AttemptEncoder(run_id)
        self.assembler = Assembler(self.attach, observer.identity, subtests_of(config))
        self.lines: list[str] = []  # encoded, not sent yet
        self.facts: list[Facts] = []  # the tally's facts of each of those lines
        self.sent = False  # until a record has gone to the controller, no report waits
        self.waiting = WaitingReports(self.assembler, guard, lambda: self.sent or bool(self.lines), observer)

    @pytest.hookimpl(tryfirst=True)  # before xdist's own hook serialises the report
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.waiting.add(report)
        if self.lines:
            report.__dict__[RECORDS_ATTR] = self.batch()
            self.sent = True

    def attach(self, attempt: Attempt) -> None:
        """Encoded here, in parallel with the other workers."""
        line, fact = self.encode(attempt)
        self.lines.append(line)
        self.facts.append(fact)

    def batch(self) -> tuple[str, str] | tuple[()]:
        """The records not sent yet as two strings: their lines joined by newlines (a JSON line holds none)
        and their facts as one JSON array. execnet serialises a list item by item in Python; two strings cost
        it a copy each, and the controller splits and parses them in C."""
        if not self.lines:
            return ()
        batch = ("\n".join(self.lines), encode(self.facts))
        self.lines, self.facts = [], []
        return batch

    def pytest_sessionfinish(self) -> None:
        output: dict[str, Any] = self.config.workeroutput  # type: ignore[attr-defined]
        if self.guard.active("assembler"):
            self.waiting.assemble()
            output[WORKER_RECORDS] = self.batch()
        stop_coverage(self.config, self.guard)
        instruments = self.observer.instruments
        usage = own_usage(self.observer.worker or "worker", instruments.process_peak_kb() if instruments else None)
        output[WORKER_USAGE] = [usage.name, usage.peak_rss_kb, usage.user_s, usage.system_s]
        output[WORKER_PROBLEMS] = self.guard.summary_lines()


class XdistHooks:
    """xdist-only hooks, registered only when xdist is installed (its hook specs exist only then)."""

    def __init__(self, controller: Controller) -> None:
        self.controller = controller

    def pytest_configure_node(self, node: Any) -> None:
        node.workerinput["suitescope"] = self.controller.consent
        node.workerinput["suitescope_run_id"] = self.controller.run_id
        node.workerinput[COV_DIR] = coverage_dir(self.controller.config)

    def pytest_testnodeready(self, node: Any) -> None:
        self.controller.workers += 1

    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        self.controller.expected = max(self.controller.expected or 0, len(ids))

    def pytest_testnodedown(self, node: Any, error: object | None) -> None:
        with self.controller.guard("xdist"):
            if error is not None:
                self.controller.lost_workers += 1
            output = getattr(node, "workeroutput", {})
            self.controller.add_from_worker(output.get(WORKER_RECORDS, ()))  # the worker's last batch
            if output.get(WORKER_USAGE):
                self.controller.worker_usage.append(ProcessUsage(*output[WORKER_USAGE]))
            for line in output.get(WORKER_PROBLEMS, []):
                self.controller.worker_problems.setdefault(line, []).append(node.gateway.id)


def plugin_versions(config: pytest.Config) -> dict[str, str]:
    """Installed pytest plugins by distribution name, with their versions."""
    versions = dict(name_and_version(dist) for _, dist in config.pluginmanager.list_plugin_distinfo())
    return dict(sorted(versions.items()))


def name_and_version(dist: Any) -> tuple[str, str]:
    """`Name` and `Version` from the head of a distribution's METADATA. `dist.metadata` runs the e-mail parser
    over the whole file: 5 ms for a handful of plugins at the end of every run, against 0.3 ms for this."""
    fields: dict[str, str] = {}
    for line in (dist.read_text("METADATA") or dist.read_text("PKG-INFO") or "").splitlines():
        if not line:
            break  # the end of the headers
        key, _, value = line.partition(":")
        if key in ("Name", "Version"):
            fields.setdefault(key, value.strip())
    if "Name" in fields and "Version" in fields:
        return fields["Name"], fields["Version"]
    return str(dist.project_name), str(dist.version)


def subtests_of(config: pytest.Config) -> Callable[[], Mapping[Any, int] | None]:
    """pytest's own count of the failed `subtests.test()` blocks of each test, by the report's structured id
    (pytest 9+; None before, or while nothing has failed). Read when asked: pytest fills its stash in a
    `pytest_configure` that may run after ours."""
    try:
        from _pytest.subtests import failed_subtests_key  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return lambda: None
    return lambda: config.stash.get(failed_subtests_key, None)  # type: ignore[no-any-return,unused-ignore]
