"""`python -m suitescope.unittest` behaves as `python -m unittest` and records what unittest reports."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import unittest
from pathlib import Path
from typing import Any

import pytest

from suitescope.collector import unittest_assembler
from tests.collector.unittest.suites import UNITTEST_SUITE, figures_from_records, unittest_summary
from tests.conftest import read_run, read_runs


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def run_module(root: Path, module: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, **env}
    return subprocess.run(
        [sys.executable, "-m", module, *args], cwd=root, capture_output=True, text=True, env=environ, check=False
    )


def normalised(output: str) -> str:
    """Output without what differs between two runs of the same suite: timings and the program's name."""
    output = re.sub(r"Ran (\d+) tests? in [0-9.]+s", r"Ran \1 tests in Xs", output)
    return output.replace("python -m suitescope.unittest", "PROG").replace(
        f"{Path(sys.executable).name} -m unittest", "PROG"
    )


@pytest.fixture
def suite(tmp_path: Path) -> Path:
    write(tmp_path, UNITTEST_SUITE)
    return tmp_path


def by_name(tests: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {t["id"].removeprefix("pkg."): t for t in tests if t["when"] != "subtest"}


@pytest.mark.parametrize("args", [["-v"], [], ["discover", "-s", ".", "-p", "test_*.py"], ["pkg.test_outcomes"]])
def test_output_and_exit_status_are_unittests(suite: Path, args: list[str]) -> None:
    plain = run_module(suite, "unittest", *args)
    recorded = run_module(suite, "suitescope.unittest", *args)
    assert recorded.returncode == plain.returncode == 1
    assert normalised(recorded.stdout) == normalised(plain.stdout)
    assert normalised(recorded.stderr) == normalised(plain.stderr)
    assert len(read_runs(suite / ".telemetry")) == 1


def test_every_count_equals_unittests_summary(suite: Path) -> None:
    result = run_module(suite, "suitescope.unittest")
    run, tests = read_run(suite)
    figures = unittest_summary(result.stderr)
    assert figures == {
        "ran": 16,
        "failures": 4,
        "errors": 7,
        "skipped": 3,
        "expected_failures": 1,
        "unexpected_successes": 1,
    }
    assert figures_from_records(run, tests) == figures
    assert run["exit_status"] == result.returncode == 1
    assert run["state"] == "completed"
    assert run["environment"]["framework"]["name"] == "unittest"
    # BrokenClass's two tests never ran: expected counts them, executed does not.
    assert run["tests_expected"] - run["tests_executed"] == 2
    assert run["consent"] == {"recording": "runner", "sending": False, "anonymity": None}


def test_statuses_phases_and_fixtures(suite: Path) -> None:
    run_module(suite, "suitescope.unittest")
    _, tests = read_run(suite)
    t = by_name(tests)
    expected = {
        "test_outcomes.Outcomes.test_pass": ("passed", None),
        "test_outcomes.Outcomes.test_fail": ("failed", "call"),
        "test_outcomes.Outcomes.test_error": ("error", "call"),
        "test_outcomes.Outcomes.test_skip": ("skipped", None),
        "test_outcomes.Outcomes.test_skip_at_runtime": ("skipped", None),
        "test_outcomes.Outcomes.test_xfail": ("xfailed", None),
        "test_outcomes.Outcomes.test_xpass": ("xpassed", None),
        "test_outcomes.Outcomes.test_subtests": ("failed", "call"),
        "test_outcomes.BrokenSetUp.test_never_called": ("error", "setup"),
        "test_outcomes.BrokenTearDown.test_passes_then_teardown_fails": ("error", "teardown"),
        "test_outcomes.BrokenClass": ("error", "setup_class"),
        "test_outcomes.SkippedClass.test_skipped": ("skipped", None),
        "test_module_fixture": ("error", "teardown_module"),
        "test_broken_import": ("error", "collect"),
    }
    assert {name: (t[name]["status"], t[name]["when"]) for name in expected} == expected
    assert t["test_outcomes.Outcomes.test_skip"]["reason"] == "not today"
    assert t["test_outcomes.BrokenClass"]["name"] == "setUpClass"
    assert t["test_outcomes.BrokenClass"]["failure"]["message"] == "class setup broke"
    assert "test_outcomes.BrokenClass.test_one" not in t
    broken_import = t["test_broken_import"]["failure"]  # unittest wraps the error in an ImportError of its own
    assert broken_import["type"] == "ImportError" and "a_module_that_does_not_exist" in broken_import["message"]
    setup_failed = t["test_outcomes.BrokenSetUp.test_never_called"]["phases"]
    assert setup_failed["setup_ms"] is not None and setup_failed["call_ms"] is None
    passed = t["test_outcomes.Outcomes.test_pass"]
    assert None not in passed["phases"].values()
    assert passed["line"] == 9 and passed["file"] == "pkg/test_outcomes.py" and passed["class"] == "Outcomes"
    assert passed["module"] == "pkg.test_outcomes"


def test_failed_subtests_are_records_of_their_own(suite: Path) -> None:
    run_module(suite, "suitescope.unittest")
    _, tests = read_run(suite)
    subtests = [t for t in tests if t["when"] == "subtest"]
    assert sorted((t["name"], t["status"], t["params"] and tuple(t["params"].items())) for t in subtests) == [
        ("test_subtest_error [lookup] (key='a')", "error", (("key", "'a'"),)),
        ("test_subtests (i=2)", "failed", (("i", "2"),)),
        ("test_subtests (i=3)", "failed", (("i", "3"),)),
    ]
    parent = by_name(tests)["test_outcomes.Outcomes.test_subtests"]
    assert parent["failure"]["type"] == "SubTestFailure"
    assert parent["failure"]["message"] == "2 subtests failed: (i=2), (i=3)"


def test_assertions_are_counted_per_test(suite: Path) -> None:
    run_module(suite, "suitescope.unittest")
    run, tests = read_run(suite)
    t = by_name(tests)

    def counted(name: str) -> tuple[int, int]:
        assertions = t[f"test_outcomes.{name}"]["assertions"]
        return assertions["passed"], assertions["failed"]

    assert counted("Outcomes.test_pass") == (3, 0)  # nested assertListEqual is not counted again
    assert counted("Outcomes.test_fail") == (0, 1)
    assert counted("Outcomes.test_raises") == (1, 1)  # the with-form counts when its block ends
    assert counted("Outcomes.test_subtests") == (2, 2)
    assert counted("BrokenTearDown.test_passes_then_teardown_fails") == (1, 0)
    passed = sum(x["assertions"]["passed"] for x in tests)
    failed = sum(x["assertions"]["failed"] for x in tests)
    assert run["assertions"] == {"total": passed + failed, "passed": passed, "failed": failed}


def test_instruments_record_queries(suite: Path) -> None:
    run_module(suite, "suitescope.unittest", "pkg.test_effects")
    run, tests = read_run(suite)
    (test,) = tests
    call = [q for q in test["db_queries"] if q["phase"] == "call"]
    assert [(q["sql"], q["count"]) for q in call] == [("SELECT name FROM item WHERE id = ?", 6)]
    assert [q["phase"] for q in test["db_queries"] if q["kind"] == "OTHER"] == ["setup"]  # CREATE TABLE in setUp
    assert test["db"]["n_plus_one"][0]["count"] == 6
    assert run["effects"]["n_plus_one_tests"] == 1
    assert test["memory"] is not None and test["cpu"] is not None


def test_options_and_switching_off(suite: Path) -> None:
    result = run_module(suite, "suitescope.unittest", "--suitescope-dir", "out", "--suitescope-instruments=none")
    assert result.returncode == 1
    runs = read_runs(suite / "out")
    assert len(runs) == 1 and all(r.get("db") is None for r in runs[0] if r["kind"] == "test")
    run_module(suite, "suitescope.unittest", "--no-suitescope")
    run_module(suite, "suitescope.unittest", SUITESCOPE="0")
    assert not (suite / ".telemetry").exists()


def test_ctrl_c_still_writes_the_run(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "test_stop.py": "import os, signal, unittest\n\n"
            "class Stop(unittest.TestCase):\n"
            "    def test_a_first(self):\n        pass\n\n"
            "    def test_b_interrupt(self):\n"
            # Ctrl-C as a terminal sends it, whatever SIGINT's state in the process that started this one
            "        signal.signal(signal.SIGINT, signal.default_int_handler)\n"
            "        signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGINT])\n"
            "        os.kill(os.getpid(), signal.SIGINT)\n\n"
            "    def test_c_never(self):\n        pass\n"
        },
    )
    plain = run_module(tmp_path, "unittest", "test_stop")
    recorded = run_module(tmp_path, "suitescope.unittest", "test_stop")
    assert recorded.returncode == plain.returncode != 0
    assert "KeyboardInterrupt" in recorded.stderr
    run, tests = read_run(tmp_path)
    assert run["state"] == "interrupted" and run["exit_status"] is None
    assert [(t["name"], t["status"]) for t in tests] == [("test_a_first", "passed"), ("test_b_interrupt", "error")]
    assert tests[1]["failure"]["type"] == "Interrupted" and tests[1]["when"] == "call"
    assert run["tests_expected"] == 3


def test_a_bad_option_is_a_usage_error(suite: Path) -> None:
    result = run_module(suite, "suitescope.unittest", "--suitescope-n-plus-one", "1")
    assert result.returncode == 2
    assert "the N+1 threshold must be 2 or more, not 1" in result.stderr
    assert not (suite / ".telemetry").exists()


def test_help_shows_both_option_sets(suite: Path) -> None:
    result = run_module(suite, "suitescope.unittest", "--help")
    assert result.returncode == 0
    assert "--suitescope-instruments LIST" in result.stdout and "-k TESTNAMEPATTERNS" in result.stdout


def test_text_test_runner_records_from_a_script(suite: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    script = suite / "run_tests.py"
    script.write_text(
        "import sys, unittest\n"
        "from suitescope.unittest import TextTestRunner\n"
        "suite = unittest.defaultTestLoader.loadTestsFromName('pkg.test_module_fixture')\n"
        "result = TextTestRunner(verbosity=0).run(suite)\n"
        "sys.exit(not result.wasSuccessful())\n"
    )
    result = subprocess.run([sys.executable, str(script)], cwd=suite, capture_output=True, text=True, check=False)
    assert result.returncode == 1, result.stderr
    run, tests = read_run(suite)
    assert run["counts"]["passed"] == 1 and run["errors"] == 1
    assert {t["when"] for t in tests} == {None, "teardown_module"}


def test_a_failing_recorder_costs_one_line(no_strict: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from suitescope.unittest import TextTestRunner

    monkeypatch.chdir(tmp_path)

    def broken(self: object, test: object) -> None:
        raise RuntimeError("assembler bug")

    monkeypatch.setattr(unittest_assembler.CaseAssembler, "stop", broken)

    class Case(unittest.TestCase):
        def test_a(self) -> None:
            self.assertEqual(1, 1)  # noqa: PT009  (unittest's asserts are what is counted)

        def test_b(self) -> None:
            self.assertEqual(1, 2)  # noqa: PT009

    suite = unittest.TestSuite([Case("test_a"), Case("test_b")])
    stream = io.StringIO()
    result = TextTestRunner(stream=stream, verbosity=0).run(suite)
    assert (result.testsRun, len(result.failures), len(result.errors)) == (2, 1, 0)
    lines = [line for line in stream.getvalue().splitlines() if line.startswith("suitescope:")]
    assert lines == [
        "suitescope: result disabled after an internal error (RuntimeError: assembler bug); "
        "your tests were not affected"
    ]
    # The wrappers are gone again: unittest's classes are as they were.
    assert unittest.TestCase.assertEqual.__code__.co_name == "assertEqual"
    assert unittest.TestCase._callSetUp.__code__.co_name == "_callSetUp"
