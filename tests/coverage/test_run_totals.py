"""Coverage totals in the run record equal coverage.py's own for the same run: serial, under xdist, and read
from pytest-cov (which then measures alone)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from suitescope.coverage.totals import coverage_totals, from_report_totals, json_totals
from tests.conftest import read_run

PACKAGE = {
    "pkg/__init__.py": "def sign(x):\n    if x > 0:\n        return 1\n    return -1\n\n\ndef never():\n    return 0\n",
    "pkg/odd.py": (
        "def odd_sum(items):\n    total = 0\n    for item in items:\n        if item % 2:\n"
        "            total += item\n    return total\n"
    ),
    "conftest.py": "import pkg  # the code under test, imported before any test runs\n",
    "tests/test_pkg.py": (
        "from pkg import sign\nfrom pkg.odd import odd_sum\n\n\ndef test_sign():\n    assert sign(2) == 1\n\n\n"
        "def test_odd_sum():\n    assert odd_sum([1, 2, 3]) == 4\n"
    ),
}


@pytest.fixture
def project(pytester: pytest.Pytester) -> Path:
    for name, text in PACKAGE.items():
        path = pytester.path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return pytester.path


def coverage_py(root: Path, *args: str) -> dict[str, Any]:
    """What coverage.py itself says, measuring the same suite: `coverage run --branch`, then its JSON totals."""
    run = [sys.executable, "-m", "coverage", "run", "--branch", "--source=pkg", "--data-file=plain.coverage"]
    subprocess.run(
        [*run, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args], cwd=root, check=True, capture_output=True
    )
    return report_totals(root, "plain.coverage")


def report_totals(root: Path, data_file: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "coverage", "json", f"--data-file={data_file}", "-o", "-"],
        cwd=root,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout)["totals"]  # type: ignore[no-any-return]


def ours(run: dict[str, Any]) -> dict[str, Any]:
    coverage = run["coverage"]
    assert coverage is not None
    return coverage  # type: ignore[no-any-return]


@pytest.mark.parametrize("xdist", [[], ["-n", "2"]])
def test_totals_equal_coverage_py(
    project: Path, pytester: pytest.Pytester, xdist: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = from_report_totals(coverage_py(project), True, "suitescope")
    result = pytester.runpytest_subprocess("--suitescope", "--suitescope-cov=pkg", "-p", "no:cacheprovider", *xdist)
    result.assert_outcomes(passed=2)
    run, _ = read_run(project)
    assert ours(run) == expected
    assert (expected["covered"], expected["total"], expected["branches_covered"], expected["branches_total"]) == (
        10,
        12,
        5,
        6,
    )
    # The combined data is kept next to the run file; coverage.py's own report on it gives the same totals.
    data_file = project / ".telemetry" / f"{run['run_id']}.coverage"
    assert from_report_totals(report_totals(project, str(data_file)), True, "suitescope") == expected
    # Both ways of taking the totals (coverage's summary reporter, its JSON report) agree on that data.
    import coverage

    cov = coverage.Coverage(data_file=str(data_file), source=["pkg"], branch=True)
    cov.load()
    monkeypatch.chdir(project)
    assert coverage_totals(cov, "suitescope") == json_totals(cov, "suitescope") == expected


def test_pytest_cov_is_read_not_measured_again(project: Path, pytester: pytest.Pytester) -> None:
    expected = from_report_totals(coverage_py(project), True, "pytest-cov")
    result = pytester.runpytest_subprocess(
        "--suitescope", "--suitescope-cov=pkg", "--cov=pkg", "--cov-branch", "-n", "2", "-p", "no:cacheprovider"
    )
    result.assert_outcomes(passed=2)
    run, _ = read_run(project)
    assert ours(run) == expected
    assert not (project / ".telemetry" / f"{run['run_id']}.coverage").exists()  # ours never started


def test_strict_warnings_and_no_recording(project: Path, pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nfilterwarnings = error\n")
    result = pytester.runpytest_subprocess("--suitescope", "--suitescope-cov=pkg", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
    assert "suitescope:" not in result.stdout.str()
    run, _ = read_run(project)
    assert ours(run)["source"] == "suitescope"
    off = pytester.runpytest_subprocess("--no-suitescope", "--suitescope-cov=pkg", "-p", "no:cacheprovider")
    off.assert_outcomes(passed=2)
    assert len(list((project / ".telemetry").glob("*.coverage"))) == 1  # the recorded run's only


def test_totals_without_branches() -> None:
    totals = {"covered_lines": 3, "num_statements": 4, "percent_covered": 75.0}
    assert from_report_totals(totals, False, "pytest-cov") == {
        "percent": 75.0,
        "lines_pct": 75.0,
        "branches_pct": None,
        "covered": 3,
        "total": 4,
        "branches_covered": None,
        "branches_total": None,
        "paths": None,
        "source": "pytest-cov",
    }


def test_report_shows_coverage_and_its_change(project: Path, pytester: pytest.Pytester) -> None:
    from click.testing import CliRunner

    from suitescope.cli.commands import cli

    pytester.runpytest_subprocess("--suitescope", "--suitescope-cov=pkg", "-p", "no:cacheprovider")
    more = project / "tests" / "test_more.py"
    more.write_text("from pkg import never, sign\n\n\ndef test_more():\n    assert sign(-1) == -1 and never() == 0\n")
    pytester.runpytest_subprocess("--suitescope", "--suitescope-cov=pkg", "-p", "no:cacheprovider")
    data = json.loads(CliRunner().invoke(cli, ["report", str(project / ".telemetry"), "--json"]).output)
    first, second = (r["coverage"] for r in data["runs"])
    assert (first["percent"], first["change"]) == (83.33, None)
    assert (second["percent"], second["previous_run_id"]) == (100.0, first["run_id"])
    assert second["change"] == 16.67
    table = CliRunner().invoke(cli, ["report", str(project / ".telemetry")], env={"COLUMNS": "160"}).output
    assert "83.3%" in table and "100.0% +16.7" in table


UNITTEST_TESTS = (
    "import unittest\n\nfrom pkg import sign\nfrom pkg.odd import odd_sum\n\n\nclass PkgTest(unittest.TestCase):\n"
    "    def test_sign(self):\n        self.assertEqual(sign(2), 1)\n\n"
    "    def test_odd_sum(self):\n        self.assertEqual(odd_sum([1, 2, 3]), 4)\n"
)


def test_unittest_runner_totals_equal_coverage_py(project: Path) -> None:
    (project / "ut").mkdir()
    (project / "ut" / "__init__.py").write_text("")
    (project / "ut" / "test_pkg_ut.py").write_text(UNITTEST_TESTS)
    discover = ["discover", "-s", "ut", "-t", "."]
    run = [sys.executable, "-m", "coverage", "run", "--branch", "--source=pkg", "--data-file=plain.coverage"]
    subprocess.run([*run, "-m", "unittest", *discover], cwd=project, check=True, capture_output=True)
    expected = from_report_totals(report_totals(project, "plain.coverage"), True, "suitescope")
    ours_run = [sys.executable, "-m", "suitescope.unittest", "--suitescope-cov=pkg", *discover]
    result = subprocess.run(ours_run, cwd=project, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    run_record, _ = read_run(project)
    assert ours(run_record) == expected and expected["covered"] == 10
    assert (project / ".telemetry" / f"{run_record['run_id']}.coverage").exists()


@pytest.mark.parametrize("parallel", ["1", "2"])
def test_django_runner_takes_the_totals_of_coverage_run(tmp_path: Path, parallel: str) -> None:
    from tests.collector.unittest.suites import DJANGO_PROJECT
    from tests.collector.unittest.test_unittest_runner import write

    write(tmp_path, DJANGO_PROJECT)
    settings = "[run]\nsource = library\nbranch = true\n"
    if parallel == "2":  # Django's workers measured too, each saving its own file
        settings += "concurrency = multiprocessing\nparallel = true\n"
    (tmp_path / ".coveragerc").write_text(settings)
    measure = [sys.executable, "-m", "coverage", "run"]
    test = ["manage.py", "test", "--noinput", "--testrunner=suitescope.django.TestRunner", "--parallel", parallel]
    result = subprocess.run([*measure, *test], cwd=tmp_path, capture_output=True, text=True, check=False)
    assert result.returncode == 1, result.stderr  # the project's suite has failing tests on purpose
    if parallel == "2":
        subprocess.run([sys.executable, "-m", "coverage", "combine"], cwd=tmp_path, check=True, capture_output=True)
    expected = from_report_totals(report_totals(tmp_path, ".coverage"), True, "coverage.py")
    run_record, _ = read_run(tmp_path)
    assert ours(run_record) == expected
    assert expected["covered"] > 20  # models, tests and the app: the workers' lines are in


def test_django_runner_refuses_its_own_measurement(tmp_path: Path) -> None:
    from tests.collector.unittest.suites import DJANGO_PROJECT
    from tests.collector.unittest.test_unittest_runner import write

    write(tmp_path, DJANGO_PROJECT)
    manage = [sys.executable, "manage.py", "test", "--testrunner=suitescope.django.TestRunner", "--suitescope-cov=x"]
    result = subprocess.run(manage, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert result.returncode != 0
    assert "Django imports your code before any test runner starts" in result.stderr
    assert "concurrency = multiprocessing" in result.stderr and "coverage run manage.py test" in result.stderr


def test_without_coverage_py_the_option_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    from suitescope.collector.run_options import check_coverage_installed

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None if name == "coverage" else real(name))
    check_coverage_installed(None)  # not asked for: nothing to check
    with pytest.raises(ValueError, match=r'needs coverage.py: pip install "suitescope\[coverage\]"'):
        check_coverage_installed(["pkg"])
