"""`python -m suitescope.unittest`: `python -m unittest` that records the run, and the runner behind it.

Same arguments, discovery, output and exit status as `python -m unittest` (unittest's own `main` parses the
command line and runs the tests); the suitescope options (`--suitescope-dir`, `--suitescope-instruments`, ...)
are taken out before unittest sees the rest. `TextTestRunner` is unittest's runner with recording added, for
projects that run their tests from a script of their own.
"""

from __future__ import annotations

import argparse
import os
import sys
import unittest
from pathlib import Path
from typing import Any

from suitescope.collector.guard import Guard
from suitescope.collector.run_options import add_run_options, run_settings, switched_off
from suitescope.collector.unittest_assembler import count_tests
from suitescope.collector.unittest_result import recording_result
from suitescope.collector.unittest_run import UnittestRun
from suitescope.schema.records import Framework, RunState

PROG = "python -m suitescope.unittest"
UNITTEST: Framework = {"name": "unittest", "version": ".".join(map(str, sys.version_info[:3]))}


def default_recording(root: Path | None = None) -> UnittestRun | None:
    """A recording with the default settings (what `TextTestRunner()` without one uses), or None when
    SUITESCOPE=0 turns it off."""
    if switched_off(False):
        return None
    root = root or Path.cwd()
    values = option_parser().parse_args([])
    return UnittestRun(run_settings(values, root, "runner"), UNITTEST, root)


class TextTestRunner(unittest.TextTestRunner):
    """unittest's `TextTestRunner`, recording the run to `.telemetry/<run_id>.ndjson`.

    Without a `recording`, each `run()` is one recorded run with the default settings. Given one, the caller
    owns it: it starts and finishes the run around this runner (as the Django runner does, with its databases).
    """

    recording: UnittestRun | None = None
    owns_run = True

    def __init__(self, *args: Any, recording: UnittestRun | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.resultclass = recording_result(self.resultclass)  # type: ignore[assignment]
        if recording is not None:
            self.recording, self.owns_run = recording, False

    def _makeResult(self) -> unittest.TextTestResult:
        result = super()._makeResult()
        result.recording = self.recording  # type: ignore[attr-defined]
        return result

    def run(self, test: unittest.TestSuite | unittest.TestCase) -> Any:
        if self.recording is None and self.owns_run:
            guard = Guard()
            with guard("plugin"):
                self.recording = default_recording()
            for line in guard.summary_lines():
                self.stream.writeln(line)
        recording = self.recording
        if recording is None:
            return super().run(test)
        with recording.guard("recorder"):
            recording.expected = count_tests(test)
        return self.recorded_run(recording, test) if self.owns_run else super().run(test)

    def recorded_run(self, recording: UnittestRun, test: unittest.TestSuite | unittest.TestCase) -> Any:
        """One whole run: start, the tests, the run record, then one line per problem after unittest's summary."""
        recording.start()
        state: RunState = "crashed"
        result: unittest.TestResult | None = None
        try:
            result = super().run(test)
            state = "interrupted" if interrupted() else "completed"
        except KeyboardInterrupt:
            state = "interrupted"
            raise
        finally:
            recording.finish(exit_status(result) if result is not None else None, state)
            for line in recording.summary_lines():
                self.stream.writeln(line)
        return result


def exit_status(result: unittest.TestResult) -> int:
    """What `python -m unittest` exits with: 1 on a failure, 5 when no test ran (since Python 3.12), else 0."""
    if sys.version_info >= (3, 12) and result.testsRun == 0 and not result.skipped:
        return 5
    return int(not result.wasSuccessful())


def interrupted() -> bool:
    """Ctrl-C under `-c`/`--catch`: unittest let the test finish and stopped the run."""
    handler = getattr(unittest.signals, "_interrupt_handler", None)
    return bool(getattr(handler, "called", False))


def option_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, add_help=False, allow_abbrev=False)
    group = parser.add_argument_group("suitescope (recording is on; --no-suitescope or SUITESCOPE=0 turn it off)")
    add_run_options(group)
    return parser


def main(argv: list[str] | None = None) -> None:
    """Run unittest's command line with recording; exits with unittest's exit status."""
    args = sys.argv[1:] if argv is None else argv
    parser = option_parser()
    ours, rest = parser.parse_known_args(args)
    if "-h" in rest or "--help" in rest:
        text = parser.format_help()
        print(text[text.index("\n\n") + 2 :])  # our options without their usage lines; unittest's help follows
    if switched_off(ours.no_suitescope):
        unittest.main(module=None, argv=[PROG, *rest])
        return
    root = Path(os.getcwd())
    try:
        settings = run_settings(ours, root, "runner")
    except ValueError as exc:
        parser.error(str(exc))  # exits 2, as unittest does for a bad argument
    recording = UnittestRun(settings, UNITTEST, root)
    runner = type("RecordingRunner", (TextTestRunner,), {"recording": recording})
    unittest.main(module=None, argv=[PROG, *rest], testRunner=runner)
