"""Under pytest-xdist: one run, one run_id, one file written by the controller, every worker's tests in it."""

from __future__ import annotations

import pytest

from tests.collector.suites import EVERY_OUTCOME, EVERY_OUTCOME_STATUSES, INI
from tests.conftest import by_id, read_run

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("args", [("-n", "2"), ("-n", "auto"), ("-n", "2", "--dist", "loadscope")])
def test_workers_records_merge_into_one_complete_run(pytester: pytest.Pytester, args: tuple[str, ...]) -> None:
    pytester.makeini(INI)
    pytester.makepyfile(test_all=EVERY_OUTCOME)
    pytester.makepyfile(test_more="\n".join(f"def test_more_{i}(): pass" for i in range(20)))
    result = pytester.runpytest_subprocess("--suitescope", *args)
    result.assert_outcomes(passed=25, failed=3, errors=2, skipped=3, xfailed=1, xpassed=1)
    run, tests = read_run(pytester.path)
    final = by_id(tests)
    assert {k: (t["status"], t["when"]) for k, t in final.items() if k in EVERY_OUTCOME_STATUSES} == (
        EVERY_OUTCOME_STATUSES
    )
    assert run["tests_expected"] == run["tests_executed"] == run["tests"] == 34
    assert {t["run_id"] for t in tests} == {run["run_id"]}
    assert {t["worker"] for t in tests} <= {f"gw{i}" for i in range(run["configuration"]["workers"])}
    assert all(t["worker"] for t in tests)
    assert run["configuration"]["workers"] >= 1
    assert final["test_raises"]["failure"]["type"] == "KeyError"  # observer data crossed the process boundary
    assert final["test_param[1]"]["params"] == {"n": "1"}


def test_a_crashed_worker_shows_as_lost_tests(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_crash="""
        import os
        def test_dies():
            os._exit(3)
        """,
        test_rest="\n".join(f"def test_rest_{i}(): pass" for i in range(10)),
    )
    result = pytester.runpytest_subprocess("--suitescope", "-n", "1", "--max-worker-restart=0", "-p", "no:randomly")
    assert result.ret != 0
    run, tests = read_run(pytester.path)
    crashed = by_id(tests)["test_dies"]
    assert (crashed["status"], crashed["when"], crashed["failure"]["type"]) == ("failed", "crash", "WorkerCrash")
    assert run["lost_workers"] == 1
    assert run["tests_expected"] == 11
    assert run["tests_executed"] < run["tests_expected"]


def test_workers_record_nothing_without_the_controllers_consent(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_one="def test_one(): pass\ndef test_two(): pass")
    result = pytester.runpytest_subprocess("-n", "2")
    result.assert_outcomes(passed=2)
    assert not (pytester.path / ".telemetry").exists()


def test_records_cross_from_workers_with_every_kind_of_text_intact(pytester: pytest.Pytester) -> None:
    """A worker sends its records as one string of lines: escaped newlines, carriage returns, U+2028 and
    non-ASCII text in names, params and messages must come out as they went in."""
    texts = ["a\nb", "c\r\nd", "é\u2028ü", "tab\there", '"quoted"\\']
    pytester.makepyfile(
        test_text=f"""
        import pytest

        @pytest.mark.parametrize("text", {texts!r}, ids=["nl", "crlf", "sep", "tab", "quote"])
        def test_text(text):
            raise ValueError(text)

        def test_pass_é():
            pass
        """
    )
    result = pytester.runpytest_subprocess("--suitescope", "-n", "2", "-p", "no:randomly")
    result.assert_outcomes(failed=5, passed=1)
    run, tests = read_run(pytester.path)
    final = by_id(tests)
    assert run["tests"] == 6
    assert final["test_pass_é"]["status"] == "passed"
    for test_id, text in zip(["nl", "crlf", "sep", "tab", "quote"], texts, strict=True):
        record = final[f"test_text[{test_id}]"]
        assert record["params"] == {"text": repr(text)}
        assert (record["failure"]["type"], record["failure"]["message"]) == ("ValueError", text)


@pytest.mark.parametrize("xdist", ["xdist", "xdist.plugin"])
def test_workers_record_when_plugins_are_loaded_by_hand(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, xdist: str
) -> None:
    """With autoloading off, xdist loaded by its entry point's name or by its module's: the same complete run."""
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    pytester.makepyfile(test_some="\n".join(f"def test_{i}(): pass" for i in range(6)))
    result = pytester.runpytest_subprocess(
        "-p", xdist, "-p", "suitescope.collector.pytest_plugin", "--suitescope", "-n", "2", "-p", "no:randomly"
    )
    result.assert_outcomes(passed=6)
    run, tests = read_run(pytester.path)
    assert run["tests"] == run["tests_expected"] == len(tests) == 6
    assert run["configuration"]["workers"] == 2
    assert {t["worker"] for t in tests} <= {"gw0", "gw1"}
