"""One recorded unittest or Django run, in the process that writes its file.

It owns the guard, the recorder and the assembler of the tests this process runs; the runner that made it says
when the run starts and how it ended. Whatever fails in here is switched off by the guard and costs one line
after unittest's own summary; the tests run as they would without it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from suitescope.collector.guard import Guard
from suitescope.collector.recorder import ProcessUsage, Recorder, RunEnd, RunInfo
from suitescope.collector.run_options import RunSettings, option_names
from suitescope.collector.unittest_assembler import CaseAssembler
from suitescope.schema.ids import new_run_id
from suitescope.schema.records import Configuration, Coverage, Framework, RunState


class UnittestRun:
    """The recorder and assembler of one run, and what the runner tells it about the run."""

    def __init__(self, settings: RunSettings, framework: Framework, root: Path, guard: Guard | None = None) -> None:
        self.guard = guard or Guard()
        self.settings = settings
        self.framework = framework
        self.root = root
        self.real_root = os.path.realpath(root)
        self.recorder = Recorder(
            RunInfo(
                new_run_id(),
                settings.directory,
                settings.project,
                settings.vendor,
                {
                    "recording": settings.consent,
                    "sending": bool(settings.send and settings.send.sending),
                    "anonymity": settings.send.anonymity if settings.send and settings.send.active else None,
                },
            ),
            self.guard,
        )
        self.assembler = CaseAssembler(self.real_root, self.guard, self.recorder.add_attempt, self.instruments)
        self.coverage = self.start_coverage(settings.coverage)
        self.assembler.coverage_map = self.map_recorder() if settings.coverage_map else None
        self.expected: int | None = None
        self.workers = 0
        self.seed: int | None = None
        self.worker_usage: dict[str, ProcessUsage] = {}
        self.worker_problems: dict[str, list[str]] = {}
        self.sender: Any = None

    @property
    def run_id(self) -> str:
        return self.recorder.run_id

    def instruments(self) -> Any:
        options = self.settings.instruments
        if not options.groups:
            return None
        try:
            from suitescope.collector.instrument.manager import Instruments

            return Instruments(self.guard, options, self.real_root)
        except Exception as exc:
            self.guard.fail("instruments", exc)
            return None

    def start_coverage(self, sources: list[str] | None) -> Any:
        """`--suitescope-cov`: measuring starts now, before unittest imports the tests (and the code they test)."""
        if not sources:
            return None
        try:
            import tempfile

            from suitescope.coverage.engine import CoverageEngine

            engine = CoverageEngine(sources, Path(tempfile.mkdtemp(prefix="suitescope-cov-")), "main")
            engine.start()
            return engine
        except Exception as exc:
            self.guard.fail("coverage", exc)
            return None

    def map_recorder(self) -> Any:
        if self.coverage is None:
            return None
        from suitescope.coverage.testmap import MapRecorder

        return MapRecorder(self.coverage, str(self.root), None)

    def coverage_totals(self) -> Coverage | None:
        """Our measurement's totals, or those of a coverage.py that was running before the run (`coverage run
        manage.py test`), or None."""
        try:
            if self.coverage is None:
                from suitescope.coverage.running import running_totals

                return running_totals()
            if self.assembler.coverage_map is not None:
                from suitescope.coverage.testmap import merge_segments

                self.assembler.coverage_map.close()
                merge_segments(self.coverage.data_dir, self.recorder.sink.path.with_suffix(".testmap"))
            totals: Coverage | None = self.coverage.combine(self.recorder.sink.path.with_suffix(".coverage"))
        except Exception as exc:
            self.guard.fail("coverage", exc)
            return None
        return totals

    def start(self) -> None:
        with self.guard("environment"):
            self.recorder.start(self.framework, self.root)

    def worker_done(self, usage: list[Any], problems: list[str]) -> None:
        """A Django worker finished a batch of tests: its latest usage, and what failed in it."""
        process = ProcessUsage(*usage)
        self.worker_usage[process.name] = process
        for line in problems:
            workers = self.worker_problems.setdefault(line, [])
            if process.name not in workers:
                workers.append(process.name)

    def finish(self, exit_status: int | None, state: RunState) -> None:
        with self.guard("recorder"):
            self.assembler.close()
            if self.recorder.environment is None:  # never started: there is no run to write
                return
            instruments = self.assembler.instruments
            self.recorder.finish(
                RunEnd(
                    exit_status,
                    state,
                    self.expected,
                    self.configuration(),
                    list(self.worker_usage.values()),
                    0,
                    instruments.process_peak_kb() if instruments is not None else None,
                    self.settings.instruments.groups,
                    self.coverage_totals(),
                )
            )
        send = self.settings.send
        if send is not None and send.active and self.guard.active("sink"):
            with self.guard("sender"):
                from suitescope.collector.sending import RunSender

                self.sender = RunSender(send, self.recorder.sink.path, self.root)
                self.sender.start()

    def configuration(self) -> Configuration:
        return {
            "workers": self.workers,
            "reruns": None,
            "randomly_seed": self.seed,
            "plugins": {},
            "options": option_names(sys.argv[1:]),
        }

    def summary_lines(self) -> list[str]:
        """One line per part that failed (here or in a worker), to print after unittest's summary."""
        lines = self.guard.summary_lines()
        lines += [f"{line} (workers {', '.join(sorted(names))})" for line, names in self.worker_problems.items()]
        if self.sender is not None:
            with self.guard("sender"):
                lines.append(self.sender.wait())
            self.sender = None
        return lines
