"""The collector contract: opt-in, and never a change to the suite it measures, even when it breaks itself."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.collector.suites import EVERY_OUTCOME, INI
from tests.conftest import read_run

SRC = Path(__file__).resolve().parents[2] / "src" / "suitescope"
_TIMINGS = re.compile(r" in \d+\.\d+s( \([0-9:.]+\))?")


_PROGRESS = re.compile(r"^([.FEsxXR]+)(\s+\[\s*\d+%\])$")
_WORKER = re.compile(r"\[gw\d+\]")


def normalised(lines: list[str]) -> list[str]:
    """Terminal output without what differs between any two runs: timings, the temporary folder, and under
    xdist which worker ran which test (the order of progress characters and the `[gwN]` labels)."""
    out = []
    for line in lines:
        if line.startswith(("rootdir:", "cachedir:")):
            continue
        line = _WORKER.sub("[gw]", _TIMINGS.sub(" in Xs", line))
        progress = _PROGRESS.match(line)
        out.append("".join(sorted(progress.group(1))) + progress.group(2) if progress else line)
    return out


@pytest.mark.parametrize("extra", [(), ("-rA",), ("-v", "--tb=long"), ("-n", "2")])
def test_output_outcomes_and_exit_status_are_identical(pytester: pytest.Pytester, extra: tuple[str, ...]) -> None:
    pytester.makeini(INI)
    pytester.makepyfile(test_all=EVERY_OUTCOME)
    plain = pytester.runpytest_subprocess("-p", "no:cacheprovider", *extra)
    recorded = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--suitescope", *extra)
    assert recorded.ret == plain.ret == pytest.ExitCode.TESTS_FAILED
    assert recorded.parseoutcomes() == plain.parseoutcomes()
    if "-n" in extra:  # xdist prints tests in completion order: compare the lines, not their order
        assert sorted(normalised(recorded.outlines)) == sorted(normalised(plain.outlines))
    elif "-v" in extra:  # verbose adds exactly one line: where the run was written
        wrote = [line for line in recorded.outlines if line.startswith("suitescope: wrote ")]
        assert len(wrote) == 1 and ".telemetry" in wrote[0]
        assert normalised([x for x in recorded.outlines if x not in wrote]) == normalised(plain.outlines)
    else:
        assert normalised(recorded.outlines) == normalised(plain.outlines)
    read_run(pytester.path)  # and the run was recorded


def test_nothing_is_recorded_without_opting_in(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    pytester.makepyfile(test_one="def test_one(): pass")
    pytester.runpytest()
    assert not (pytester.path / ".telemetry").exists()
    monkeypatch.setenv("SUITESCOPE", "0")
    pytester.runpytest()
    assert not (pytester.path / ".telemetry").exists()


def test_opt_in_by_env_and_ini_and_opt_out_wins(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    pytester.makepyfile(test_one="def test_one(): pass")
    monkeypatch.setenv("SUITESCOPE", "1")
    pytester.runpytest()
    run, _ = read_run(pytester.path)
    assert run["consent"]["recording"] == "env"
    pytester.runpytest("--no-suitescope")
    assert len(list((pytester.path / ".telemetry").glob("*.ndjson"))) == 1
    monkeypatch.delenv("SUITESCOPE")
    pytester.makeini("[pytest]\nsuitescope = true\nsuitescope_dir = telemetry-here\n")
    pytester.runpytest()
    assert len(list((pytester.path / "telemetry-here").glob("*.ndjson"))) == 1


@pytest.mark.usefixtures("no_strict")
def test_a_raising_recorder_costs_one_summary_line(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    pytester.makepyfile(test_all=EVERY_OUTCOME)
    pytester.makeconftest(
        """
        import pytest
        from suitescope.collector import pytest_assembler

        def explode(self, report, *args):
            raise RuntimeError("assembler bug")

        pytest_assembler.Assembler.on_test_report = explode
        """
    )
    plain = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    broken = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--suitescope")
    assert broken.ret == plain.ret
    assert broken.parseoutcomes() == plain.parseoutcomes()
    extra = [line for line in broken.outlines if line.startswith("suitescope:")]
    assert extra == [
        "suitescope: assembler disabled after an internal error (RuntimeError: assembler bug); "
        "your tests were not affected"
    ]
    assert normalised([x for x in broken.outlines if x not in extra]) == normalised(plain.outlines)


@pytest.mark.usefixtures("no_strict")
def test_an_unwritable_directory_costs_one_summary_line(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_one="def test_one(): pass\ndef test_two(): assert 0")
    (pytester.path / "blocked").write_text("a file where the directory should be")
    result = pytester.runpytest("--suitescope", "--suitescope-dir", "blocked/runs")
    result.assert_outcomes(passed=1, failed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    lines = [line for line in result.outlines if line.startswith("suitescope:")]
    assert len(lines) == 1
    assert lines[0].startswith("suitescope: could not write the run file, so this run's telemetry is incomplete (")
    assert lines[0].endswith("your tests were not affected")


def test_suites_that_turn_warnings_into_errors_are_unaffected(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nfilterwarnings = error\n")
    pytester.makepyfile(
        test_warn="""
        import warnings
        def test_no_warning_leaks():
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                assert caught == []
        def test_one(): pass
        """
    )
    result = pytester.runpytest_subprocess("--suitescope", "-n", "2", "-W", "error")
    result.assert_outcomes(passed=2)
    assert not [line for line in result.outlines if "warning" in line.lower() and "rootdir" not in line]
    read_run(pytester.path)


HEAVY = (
    "fastapi",
    "starlette",
    "sqlalchemy",
    "alembic",
    "jinja2",
    "redis",
    "psycopg",
    "uvicorn",
    "pydantic",
    "orjson",
    "defusedxml",
    "click",
    "rich",
)


def test_importing_the_plugin_loads_no_heavy_dependency() -> None:
    code = (
        "import sys, suitescope.collector.pytest_plugin as p, suitescope.sinks, suitescope.schema;"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# The import direction of DESIGN.md §1: schema <- sinks <- collector; schema <- analysis <- server. Coverage is
# one of the collector's instruments in DESIGN.md's data flow: schema <- coverage <- collector.
ALLOWED = {
    "schema": {"schema"},
    "sinks": {"schema", "sinks"},
    "coverage": {"schema", "coverage"},
    "collector": {"schema", "sinks", "coverage", "collector"},
    "analysis": {"schema", "analysis"},
    "server": {"schema", "analysis", "server"},
}


def test_packages_import_only_in_the_agreed_direction() -> None:
    for package, allowed in ALLOWED.items():
        for path in (SRC / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("suitescope."):
                    target = node.module.split(".")[1]
                    assert target in allowed, f"{path.relative_to(SRC)} imports {node.module}"


def test_no_assert_in_what_runs_inside_a_suite() -> None:
    """pytest rewrites the modules of a plugin's distribution like test modules: with `enable_assertion_pass_hook`
    on, an `assert` of ours that passed during a test counted as one of the user's passed assertions (the NDJSON
    sink's flush made a test's count 2 instead of 1). Checks in the collector raise instead."""
    found = [
        f"{path.relative_to(SRC)}:{node.lineno}"
        for package in ("collector", "sinks", "schema", "coverage")
        for path in (SRC / package).rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Assert)
    ]
    assert found == []


@pytest.mark.usefixtures("no_strict")
def test_a_failure_on_xdist_workers_costs_one_summary_line(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_many="\n".join(f"def test_{i}(): pass" for i in range(10)))
    pytester.makeconftest(
        """
        from suitescope.collector import pytest_assembler

        def explode(self, report, *args):
            raise RuntimeError("worker-side bug")

        pytest_assembler.Assembler.on_test_report = explode
        """
    )
    result = pytester.runpytest_subprocess("--suitescope", "-n", "2")
    result.assert_outcomes(passed=10)
    lines = [line for line in result.outlines if line.startswith("suitescope:")]
    assert lines == [
        "suitescope: assembler disabled after an internal error (RuntimeError: worker-side bug); "
        "your tests were not affected (xdist workers gw0, gw1)"
    ]
    run, tests = read_run(pytester.path)
    assert tests == [] and run["tests_expected"] == 10 and run["tests_executed"] == 0
