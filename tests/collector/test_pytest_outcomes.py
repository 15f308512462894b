"""The pytest plugin end to end: one record per attempt with the right status, and a run record that adds up."""

from __future__ import annotations

import pytest

from tests.collector.suites import EVERY_OUTCOME, EVERY_OUTCOME_STATUSES, INI
from tests.conftest import by_id, read_run, read_runs


@pytest.fixture
def every_outcome(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini(INI)
    pytester.makepyfile(test_all=EVERY_OUTCOME)
    return pytester


def test_every_status_is_recorded_as_pytest_reports_it(every_outcome: pytest.Pytester) -> None:
    result = every_outcome.runpytest("--suitescope")
    result.assert_outcomes(passed=5, failed=3, errors=2, skipped=3, xfailed=1, xpassed=1)
    run, tests = read_run(every_outcome.path)
    final = by_id(tests)
    assert {name: (t["status"], t["when"]) for name, t in final.items()} == EVERY_OUTCOME_STATUSES
    assert run["counts"] == {"passed": 4, "failed": 3, "error": 2, "skipped": 3, "xfailed": 1, "xpassed": 1}
    assert run["tests"] == run["tests_executed"] == run["tests_expected"] == 14
    assert run["state"] == "completed"
    assert run["exit_status"] == 1
    assert run["exceptions"] == 3  # KeyError, RuntimeError, ValueError; not the asserts nor the strict XPASS
    assert run["errors"] == 2
    assert run["classes"] == 1
    assert run["modules"] == 1


def test_failure_details_reasons_and_identity(every_outcome: pytest.Pytester) -> None:
    every_outcome.runpytest("--suitescope")
    _, tests = read_run(every_outcome.path)
    final = by_id(tests)
    assert final["test_raises"]["failure"]["type"] == "KeyError"
    assert final["test_setup_error"]["failure"]["message"] == "setup broke"
    assert final["test_teardown_error"]["failure"]["type"] == "ValueError"
    assert final["test_teardown_error"]["phases"]["call_ms"] is not None
    assert final["test_xpass_strict"]["failure"]["type"] == "XPASS(strict)"
    assert final["test_skip_marker"]["reason"] == "marker skip"
    assert final["test_skip_in_fixture"]["reason"] == "fixture says skip"
    assert final["test_xfail"]["reason"] == "known bug"
    assert final["test_passes"]["failure"] is None
    param = final["test_param[2]"]
    assert param["params"] == {"n": "2"}
    assert param["markers"] == ["slow"]
    assert param["file"] == "test_all.py"
    assert param["module"] == "test_all"
    assert param["line"] is not None and param["line"] > 1
    method = final["test_method"]
    assert method["class"] == "TestGroup"
    assert method["id"] == "test_all.py::TestGroup::test_method"
    for test in tests:
        assert test["run_id"] == tests[0]["run_id"]
        assert test["start_time"].endswith("Z") and test["end_time"] >= test["start_time"]
        assert test["duration_ms"] >= 0
        assert test["worker"] is None


def test_assertion_counts_are_null_unless_the_pass_hook_is_on(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_asserts="""
        def test_three():
            assert 1
            assert 2
            assert 3

        def test_one_then_fail():
            assert 1
            assert 0
        """
    )
    pytester.runpytest("--suitescope")
    run, tests = read_run(pytester.path)
    assert run["assertions"] == {"total": None, "passed": None, "failed": 1}
    assert by_id(tests)["test_three"]["assertions"] == {"passed": None, "failed": 0}

    (pytester.path / ".telemetry").rename(pytester.path / "first")
    pytester.makeini("[pytest]\nenable_assertion_pass_hook = true\n")
    pytester.runpytest("--suitescope", "-p", "no:cacheprovider")
    run, tests = read_run(pytester.path)
    assert by_id(tests)["test_three"]["assertions"] == {"passed": 3, "failed": 0}
    assert by_id(tests)["test_one_then_fail"]["assertions"] == {"passed": 1, "failed": 1}
    assert run["assertions"] == {"total": 5, "passed": 4, "failed": 1}


def test_reruns_are_kept_as_separate_attempts(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_flaky="""
        import pathlib
        def test_flaky():
            marker = pathlib.Path("attempted")
            if not marker.exists():
                marker.write_text("1")
                raise ConnectionError("first try fails")
        """
    )
    result = pytester.runpytest("--suitescope", "--reruns", "2")
    assert result.parseoutcomes() == {"passed": 1, "rerun": 1}
    run, tests = read_run(pytester.path)
    assert [(t["attempt"], t["status"], t["final"]) for t in tests] == [(1, "failed", False), (2, "passed", True)]
    assert tests[0]["failure"]["type"] == "ConnectionError"
    assert run["reruns"] == 1 and run["attempts"] == 2 and run["tests"] == 1
    assert run["counts"]["passed"] == 1 and run["counts"]["failed"] == 0
    assert run["configuration"]["reruns"] == 2


def test_a_broken_import_is_one_error_record(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_ok="def test_ok(): pass", test_broken="import no_such_module_anywhere")
    result = pytester.runpytest("--suitescope")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    run, tests = read_run(pytester.path)
    assert len(tests) == 1
    (error,) = tests
    assert (error["id"], error["status"], error["when"]) == ("test_broken.py", "error", "collect")
    assert error["failure"]["type"] == "ModuleNotFoundError"
    assert run["collection_errors"] == 1 and run["errors"] == 1
    assert run["state"] == "completed"  # pytest stopped, but nobody interrupted it


def test_ctrl_c_still_writes_the_run_record(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_stop="""
        def test_before(): pass
        def test_interrupts(): raise KeyboardInterrupt
        def test_after(): pass
        """
    )
    result = pytester.runpytest_subprocess("--suitescope")  # in-process, pytester re-raises the interrupt
    assert result.ret == pytest.ExitCode.INTERRUPTED
    run, tests = read_run(pytester.path)
    assert run["state"] == "interrupted"
    assert run["tests_expected"] == 3
    statuses = {t["id"].rpartition("::")[2]: t["status"] for t in tests}
    assert statuses == {"test_before": "passed", "test_interrupts": "error"}
    assert run["tests_executed"] == 2


def test_second_run_gets_its_own_file(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_one="def test_one(): pass")
    pytester.runpytest("--suitescope")
    pytester.runpytest("--suitescope")
    runs = read_runs(pytester.path / ".telemetry")
    assert len(runs) == 2
    assert runs[0][-1]["run_id"] != runs[1][-1]["run_id"]


def test_project_from_option_and_from_pyproject(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_one="def test_one(): pass")
    pytester.makefile(".toml", pyproject='[project]\nname = "acme-shop"\n')
    pytester.runpytest("--suitescope")
    run, _ = read_run(pytester.path)
    assert (run["project"], run["vendor"]) == ("acme-shop", None)
    (pytester.path / ".telemetry").rename(pytester.path / "first")
    pytester.runpytest("--suitescope", "--suitescope-project", "acme/storefront")
    run, _ = read_run(pytester.path)
    assert (run["project"], run["vendor"]) == ("storefront", "acme")


def test_run_record_environment_and_configuration(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_one="def test_one(): pass")
    pytester.runpytest("--suitescope", "-k", "one", "--tb=short")
    run, _ = read_run(pytester.path)
    env = run["environment"]
    assert env["framework"] == {"name": "pytest", "version": pytest.__version__}
    assert env["python"]["implementation"] and env["os"]["name"] and env["arch"]
    options = run["configuration"]["options"]
    assert {"--suitescope", "--tb", "-k"} <= set(options)
    assert not {"one", "short", "--tb=short"} & set(options)  # names, never values
    assert "suitescope" in run["configuration"]["plugins"]
    assert run["consent"] == {"recording": "option", "sending": False, "anonymity": None}
    assert run["memory"]["peak_rss_kb"] > 0
    assert run["coverage"] is None
