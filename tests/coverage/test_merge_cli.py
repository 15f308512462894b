"""`suitescope coverage merge`: our maps and coverage.py's per-test contexts into one map, exported as a
standard coverage.py data file that coverage.py's own reports read."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from suitescope.cli.commands import cli
from suitescope.coverage.testmap import lines_of
from tests.conftest import read_run
from tests.coverage.test_run_totals import PACKAGE


@pytest.fixture
def project(pytester: pytest.Pytester) -> Path:
    for name, text in PACKAGE.items():
        (pytester.path / name).parent.mkdir(parents=True, exist_ok=True)
        (pytester.path / name).write_text(text)
    return pytester.path


def test_a_map_and_pytest_cov_contexts_merge_and_export(
    project: Path, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.runpytest_subprocess(
        "--suitescope", "--suitescope-cov=pkg", "--suitescope-cov-map", "-p", "no:cacheprovider"
    ).assert_outcomes(passed=2)
    run, _ = read_run(project)
    ours = project / ".telemetry" / f"{run['run_id']}.testmap"
    # The same suite under pytest-cov with per-test contexts: a coverage.py data file.
    contexts = ["--cov=pkg", "--cov-branch", "--cov-context=test", "--cov-report=", "-p", "no:cacheprovider"]
    pytester.runpytest_subprocess(*contexts, "-p", "no:suitescope").assert_outcomes(passed=2)
    monkeypatch.chdir(project)
    result = CliRunner().invoke(
        cli, ["coverage", "merge", str(ours), ".coverage", "-o", "merged.testmap", "--export", "merged.coverage"]
    )
    assert result.exit_code == 0, result.output
    assert "merged.testmap: 4 tests from 2 inputs" in result.output  # two tests, from each input
    # Both inputs agree on each test's lines, and the merged map holds their union.
    assert lines_of(project / "merged.testmap", "tests/test_pkg.py::test_sign") == {"pkg/__init__.py": [2, 3]}
    assert lines_of(project / "merged.testmap", "tests/test_pkg.py::test_odd_sum") == {"pkg/odd.py": [2, 3, 4, 5, 6]}
    report = subprocess.run(
        [sys.executable, "-m", "coverage", "json", "--data-file=merged.coverage", "-o", "-"],
        cwd=project,
        capture_output=True,
        text=True,
        check=True,
    )
    totals = json.loads(report.stdout)["totals"]
    assert (totals["covered_lines"], totals["num_statements"]) == (7, 12)  # the tests' own lines, no imports
    assert (totals["covered_branches"], totals["num_branches"]) == (5, 6)  # arcs from both inputs: exported


def test_merge_refuses_what_it_cannot_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("not a database")
    result = CliRunner().invoke(cli, ["coverage", "merge", "notes.txt", "-o", "out.testmap"])
    assert result.exit_code == 1
    assert "notes.txt: not a suitescope map nor a coverage.py data file" in result.output
