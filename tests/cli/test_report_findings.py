"""`suitescope report --flaky --lost` over runs recorded by the pytest plugin."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from suitescope.cli.commands import cli

FLIPPING = """
import pathlib

def test_flips():
    counter = pathlib.Path("count.txt")
    n = int(counter.read_text()) if counter.exists() else 0
    counter.write_text(str(n + 1))
    assert n % 2 == 0

def test_steady():
    assert True

def test_always_fails():
    assert False
"""


def test_flaky_broken_and_lost_from_recorded_runs(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_app=FLIPPING, test_gone="def test_removed_later(): pass\n")
    for number in range(4):
        if number == 3:
            (pytester.path / "test_gone.py").unlink()
        pytester.runpytest("--suitescope", "-p", "no:randomly", "-p", "no:cacheprovider")
    runner = CliRunner()
    result = runner.invoke(cli, ["report", "--flaky", "--lost", "--json", str(pytester.path / ".telemetry")])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [f["test"] for f in data["flaky"]] == ["test_app.py::test_flips"]
    assert data["flaky"][0]["reasons"][0].startswith("flips on")
    assert [b["test"] for b in data["broken"]] == ["test_app.py::test_always_fails"]
    assert [(item["test"], item["reason"]) for item in data["lost"]] == [
        ("test_gone.py::test_removed_later", "no longer collected: deleted, renamed or deselected")
    ]
    tables = runner.invoke(cli, ["report", "--flaky", str(pytester.path / ".telemetry")], env={"COLUMNS": "200"})
    assert "1 flaky test" in tables.output and "test_app.py::test_flips" in tables.output
    assert "1 broken test" in tables.output


def test_each_finding_flag_alone_and_markup_in_names_stays_text(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_m="import pytest\n@pytest.mark.parametrize('x', ['[red]boom'])\ndef test_p(x): assert 0\n")
    for _ in range(3):
        pytester.runpytest("--suitescope", "-p", "no:randomly", "-p", "no:cacheprovider")
    telemetry = str(pytester.path / ".telemetry")
    runner = CliRunner()
    data = json.loads(
        runner.invoke(cli, ["report", "--slow", "--failures", "--regressions", "--json", telemetry]).output
    )
    assert set(data) == {"slowest", "failure_groups", "regressions"}
    assert data["regressions"] == {"durations": [], "queries": [], "new_hosts": []}
    tables = runner.invoke(cli, ["report", "--flaky", telemetry], env={"COLUMNS": "200"}).output
    assert "test_p[[red]boom]" in tables  # printed as text, not taken for a colour


@pytest.mark.parametrize("xdist", [[], ["-n", "2"]])
def test_quarantine_runs_the_flaky_tests_without_letting_them_fail_the_run(
    pytester: pytest.Pytester, xdist: list[str]
) -> None:
    pytester.makepyfile(test_app=FLIPPING.replace("def test_always_fails():\n    assert False\n", ""))
    for _ in range(5):  # passes, fails, passes, fails, passes
        pytester.runpytest("--suitescope", "-p", "no:randomly", "-p", "no:cacheprovider")
    ids = CliRunner().invoke(cli, ["flaky", str(pytester.path / ".telemetry")])
    assert ids.output.splitlines() == ["test_app.py::test_flips"]
    (pytester.path / "quarantine.txt").write_text("# known flaky\n" + ids.output)
    args = ["--suitescope-quarantine=quarantine.txt", "-p", "no:randomly", "-p", "no:cacheprovider", *xdist]
    result = pytester.runpytest_subprocess(*args)  # the 6th run: test_flips fails this time
    assert result.ret == 0
    result.assert_outcomes(passed=1, xfailed=1)
    result.stdout.fnmatch_lines(["suitescope: 1 quarantined test ran; 1 failed and did not fail the run"])
    deselect = CliRunner().invoke(cli, ["flaky", "--format", "pytest-args", str(pytester.path / ".telemetry")])
    assert deselect.output.strip() == "--deselect=test_app.py::test_flips"


def test_a_quarantine_list_that_cannot_be_had(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_one="def test_one(): assert 0\n")
    missing = pytester.runpytest("--suitescope-quarantine=nope.txt")
    assert missing.ret == pytest.ExitCode.USAGE_ERROR
    unreachable = pytester.runpytest_subprocess("--suitescope-quarantine=http://127.0.0.1:9/findings")
    assert unreachable.ret == 1  # nothing quarantined: the failure counts
    unreachable.stdout.fnmatch_lines(["suitescope: quarantine list not read (*); nothing quarantined"])
