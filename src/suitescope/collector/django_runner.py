"""`suitescope.django.TestRunner`: Django's `DiscoverRunner`, recording the run.

Everything the run does is still Django's (databases, checks, tags, `--keepdb`, `--failfast`, `--reverse`,
`--shuffle`, `--parallel`, `--debug-sql`, `--pdb`, output, exit status); this class only adds the suitescope
options, puts the recording result in front of Django's result class, and wraps the run between start and the
run record. Under `--parallel N` each worker process makes the records of its tests where they run (timings,
failures, queries of its own database connections) and sends them back, encoded, as one more event of the
stream Django's parallel suite already replays into the parent's result: one run, one file.
"""

from __future__ import annotations

import os
import sys
import unittest
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import django
from django.core.management.base import CommandError
from django.test import runner as django_runner
from django.test.runner import DiscoverRunner, ParallelTestSuite, RemoteTestResult, RemoteTestRunner

from suitescope.collector.attempt import Attempt, AttemptEncoder
from suitescope.collector.guard import Guard
from suitescope.collector.recorder import own_usage
from suitescope.collector.run_options import RUN_OPTIONS, add_run_options, run_settings, switched_off
from suitescope.collector.unittest_assembler import CaseAssembler
from suitescope.collector.unittest_result import RecordingResult
from suitescope.collector.unittest_run import UnittestRun
from suitescope.collector.unittest_runner import TextTestRunner, interrupted
from suitescope.schema.records import Framework, RunState

DJANGO: Framework = {"name": "django", "version": django.get_version()}
# Our options as Django hands them to the runner: keyword arguments named after argparse's dests.
OPTION_DEFAULTS: dict[str, Any] = {
    "no_suitescope": False,
    **{flag.removeprefix("--").replace("-", "_"): kwargs["default"] for flag, kwargs in RUN_OPTIONS},
}

# What a worker process needs to record: (run_id, real root, instrument options), or None (record nothing).
# Inherited from the parent on fork; set by `worker_setup` on spawn.
WORKER_CONFIG: tuple[str, str, Any] | None = None
_worker: WorkerRecording | None = None


class WorkerRecording:
    """In a worker process: the assembler of its tests, sending each record with the batch's events."""

    def __init__(self, run_id: str, real_root: str, options: Any) -> None:
        self.guard = Guard()
        self.worker = f"w{django_runner._worker_id}"  # Django numbers its workers from 1
        self.result: RemoteTestResult | None = None
        self.encode = AttemptEncoder(run_id)
        self.assembler = CaseAssembler(real_root, self.guard, self.send, self.instruments, self.worker)
        self.options = options
        self.real_root = real_root

    def instruments(self) -> Any:
        if not self.options.groups:
            return None
        from suitescope.collector.instrument.manager import Instruments

        return Instruments(self.guard, self.options, self.real_root)

    def send(self, attempt: Attempt) -> None:
        result = self.result
        if result is not None:
            result.events.append(("suitescope_record", max(result.test_index, 0), *self.encode(attempt)))

    def done(self, result: RemoteTestResult) -> None:
        """The batch is over: this process's usage so far and its problems travel with its events."""
        instruments = self.assembler.instruments
        usage = own_usage(self.worker, instruments.process_peak_kb() if instruments is not None else None)
        event = ("suitescope_worker", max(result.test_index, 0), list(vars(usage).values()), self.guard.summary_lines())
        result.events.append(event)


def worker_recording() -> WorkerRecording | None:
    """This worker's recording, made on first use, or None when the parent does not record."""
    global _worker
    if _worker is None and WORKER_CONFIG is not None:
        guard = Guard()
        with guard("worker"):
            _worker = WorkerRecording(*WORKER_CONFIG)
    return _worker


def worker_setup(config: tuple[str, str, Any] | None) -> None:
    """Django's `process_setup` for spawned workers: they do not inherit the parent's module state."""
    global WORKER_CONFIG
    WORKER_CONFIG = config


class RecordingRemoteResult(RecordingResult, RemoteTestResult):
    """The result of a worker's batch: Django's events, and one more per finished record."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        worker = worker_recording()
        if worker is not None:
            worker.result = self
            self.recording = worker  # type: ignore[assignment]  # has the guard and assembler the mixin uses


class RecordingRemoteRunner(RemoteTestRunner):
    resultclass = RecordingRemoteResult

    def run(self, test: Any) -> Any:
        result = super().run(test)
        worker = worker_recording()
        if worker is not None:
            with worker.guard("worker"):
                worker.done(result)
        return result


class RecordingParallelTestSuite(ParallelTestSuite):
    """Django's parallel suite, with workers that record and a parent that takes their records."""

    runner_class = RecordingRemoteRunner
    process_setup = worker_setup
    recording_config: tuple[str, str, Any] | None = None

    def run(self, result: Any) -> Any:
        global WORKER_CONFIG
        WORKER_CONFIG = self.recording_config  # what forked workers inherit
        self.process_setup_args = (self.recording_config,)  # what spawned ones are given
        remote = getattr(result, "remote", None)
        if remote is not None:
            result.remote = True  # the replayed callbacks make no records here: the workers made them
        try:
            return super().run(result)
        finally:
            WORKER_CONFIG = None
            if remote is not None:
                result.remote = remote


class TestRunner(DiscoverRunner):
    """`TEST_RUNNER = "suitescope.django.TestRunner"`, or `manage.py test --testrunner=suitescope.django.TestRunner`."""

    test_runner: type[unittest.TextTestRunner] = TextTestRunner
    parallel_test_suite = RecordingParallelTestSuite

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        values = SimpleNamespace(**{name: kwargs.pop(name, default) for name, default in OPTION_DEFAULTS.items()})
        super().__init__(*args, **kwargs)
        self.recording: UnittestRun | None = None
        if switched_off(values.no_suitescope):
            self.test_runner = unittest.TextTestRunner  # unittest's own: this run records nothing
            return
        root = Path(os.getcwd())
        try:
            settings = run_settings(values, root, "runner")
        except ValueError as exc:
            raise CommandError(f"suitescope: {exc}") from None
        if settings.coverage:
            raise CommandError(
                "suitescope: --suitescope-cov is not available with the Django runner: Django imports your code "
                "before any test runner starts. Run `coverage run manage.py test` and the run record takes its "
                "totals (with --parallel, set `concurrency = multiprocessing` and `parallel = true` under [run] in "
                ".coveragerc)"
            )
        self.recording = UnittestRun(settings, DJANGO, root)

    @classmethod
    def add_arguments(cls, parser: Any) -> None:
        super().add_arguments(parser)
        add_run_options(parser.add_argument_group("suitescope", "test telemetry (recording is on with this runner)"))

    def build_suite(self, *args: Any, **kwargs: Any) -> Any:
        suite = super().build_suite(*args, **kwargs)
        recording = self.recording
        if recording is not None and isinstance(suite, RecordingParallelTestSuite):
            suite.recording_config = (recording.run_id, recording.real_root, recording.settings.instruments)
            recording.workers = suite.processes
        return suite

    def get_test_runner_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = super().get_test_runner_kwargs()
        if self.recording is not None:
            kwargs["recording"] = self.recording
        return kwargs

    def run_tests(self, test_labels: Any, **kwargs: Any) -> int:
        recording = self.recording
        if recording is None:
            return int(super().run_tests(test_labels, **kwargs))
        recording.start()
        state: RunState = "crashed"
        failures: int | None = None
        try:
            failures = int(super().run_tests(test_labels, **kwargs))
            state = "interrupted" if interrupted() else "completed"
            return failures
        except KeyboardInterrupt:
            state = "interrupted"
            raise
        finally:
            with recording.guard("recorder"):
                recording.seed = self.shuffle_seed
            recording.finish(None if failures is None else int(failures > 0), state)
            for line in recording.summary_lines():
                print(line, file=sys.stderr)
