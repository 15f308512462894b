"""The per-test coverage map: each test's lines exactly, with and without xdist; segments merge by set."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from suitescope.coverage.testmap import MapWriter, arcs_of, lines_of, merge
from suitescope.coverage.totals import from_report_totals
from tests.conftest import read_run
from tests.coverage.test_run_totals import PACKAGE, coverage_py, ours


@pytest.mark.parametrize("xdist", [[], ["-n", "2"]])
def test_each_test_maps_exactly_the_lines_it_ran(pytester: pytest.Pytester, xdist: list[str]) -> None:
    for name, text in PACKAGE.items():
        path = pytester.path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    expected = from_report_totals(coverage_py(pytester.path), True, "suitescope")
    args = ["--suitescope", "--suitescope-cov=pkg", "--suitescope-cov-map", "-p", "no:cacheprovider", *xdist]
    pytester.runpytest_subprocess(*args).assert_outcomes(passed=2)
    run, _ = read_run(pytester.path)
    map_file = pytester.path / ".telemetry" / f"{run['run_id']}.testmap"
    # sign(2): the `if` and `return 1` (lines 2, 3); the def lines ran at import, before any test.
    assert lines_of(map_file, "tests/test_pkg.py::test_sign") == {"pkg/__init__.py": [2, 3]}
    # odd_sum([1, 2, 3]): every line of its body, the loop included.
    assert lines_of(map_file, "tests/test_pkg.py::test_odd_sum") == {"pkg/odd.py": [2, 3, 4, 5, 6]}
    # With branches measured, the arcs too: sign(2) took `if` -> `return 1`, never `if` -> `return -1` (2 -> 4).
    assert arcs_of(map_file, "tests/test_pkg.py::test_sign") == {"pkg/__init__.py": [(-1, 2), (2, 3), (3, -1)]}
    loop = [(-1, 2), (2, 3), (3, 4), (3, 6), (4, 3), (4, 5), (5, 3), (6, -1)]  # every way round the loop
    assert arcs_of(map_file, "tests/test_pkg.py::test_odd_sum") == {"pkg/odd.py": loop}
    assert ours(run) == expected  # taking each test's lines leaves the run's totals as coverage.py has them


def test_segments_merge_with_shared_files_and_bitmaps_stored_once(tmp_path: Path) -> None:
    first = MapWriter(tmp_path / "a.segment", "gw0")
    first.add("t::one", {"pkg/a.py": [1, 2, 3], "pkg/b.py": [5]})
    first.add("t::two", {"pkg/a.py": [1, 2, 3]})  # the same lines: the same bitmap
    first.close()
    second = MapWriter(tmp_path / "b.segment", "gw1")
    second.add("t::three", {"pkg/b.py": [5], "pkg/c.py": [7, 9]})
    second.add("t::one", {"pkg/a.py": [4]}, {"pkg/a.py": [(-1, 4), (4, -1)]})  # a rerun, on another worker
    second.close()
    out = tmp_path / "run.testmap"
    assert merge([tmp_path / "a.segment", tmp_path / "b.segment"], out) == 4
    with sqlite3.connect(out) as db:
        files = db.execute("SELECT COUNT(*) FROM file").fetchone()[0]
        bitmaps = db.execute("SELECT COUNT(*) FROM bits").fetchone()[0]
        hits = db.execute("SELECT COUNT(*) FROM hit").fetchone()[0]
    assert (files, bitmaps, hits) == (3, 4, 6)  # [1,2,3], [5], [7,9], [4]
    assert lines_of(out, "t::one") == {"pkg/a.py": [1, 2, 3, 4], "pkg/b.py": [5]}
    assert lines_of(out, "t::three") == {"pkg/b.py": [5], "pkg/c.py": [7, 9]}
    assert lines_of(out, "t::missing") == {}
    assert arcs_of(out, "t::one") == {"pkg/a.py": [(-1, 4), (4, -1)]}  # only the attempt that had arcs


def test_the_map_without_our_measurement_says_so(pytester: pytest.Pytester) -> None:
    for name, text in PACKAGE.items():
        (pytester.path / name).parent.mkdir(parents=True, exist_ok=True)
        (pytester.path / name).write_text(text)
    alone = pytester.runpytest_subprocess("--suitescope", "--suitescope-cov-map", "-p", "no:cacheprovider")
    assert alone.ret == pytest.ExitCode.USAGE_ERROR
    assert "--suitescope-cov-map needs --suitescope-cov=SOURCE" in alone.stderr.str()
    with_cov = pytester.runpytest_subprocess(
        "--suitescope", "--suitescope-cov=pkg", "--suitescope-cov-map", "--cov=pkg", "-p", "no:cacheprovider"
    )
    with_cov.assert_outcomes(passed=2)
    assert "suitescope: --suitescope-cov-map records nothing with pytest-cov's --cov on" in with_cov.stdout.str()
    assert not list((pytester.path / ".telemetry").glob("*.testmap"))


def test_the_unittest_runner_maps_each_test(tmp_path: Path) -> None:
    import subprocess
    import sys

    from tests.coverage.test_run_totals import UNITTEST_TESTS

    for name, text in PACKAGE.items():
        if not name.startswith("tests/"):
            (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / name).write_text(text)
    (tmp_path / "ut").mkdir()
    (tmp_path / "ut" / "__init__.py").write_text("")
    (tmp_path / "ut" / "test_pkg_ut.py").write_text(UNITTEST_TESTS)
    cmd = [sys.executable, "-m", "suitescope.unittest", "--suitescope-cov=pkg", "--suitescope-cov-map"]
    result = subprocess.run([*cmd, "discover", "-s", "ut", "-t", "."], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    run, _ = read_run(tmp_path)
    map_file = tmp_path / ".telemetry" / f"{run['run_id']}.testmap"
    assert lines_of(map_file, "ut.test_pkg_ut.PkgTest.test_sign") == {"pkg/__init__.py": [2, 3]}
    assert lines_of(map_file, "ut.test_pkg_ut.PkgTest.test_odd_sum") == {"pkg/odd.py": [2, 3, 4, 5, 6]}
    assert run["coverage"]["covered"] == 10  # the totals still hold every line, imports included


def test_a_collector_out_of_reach_stops_the_map_not_the_run(pytester: pytest.Pytester, no_strict: None) -> None:
    """Should coverage.py move its collector's data, no test is mapped as having run nothing."""
    for name, text in PACKAGE.items():
        (pytester.path / name).parent.mkdir(parents=True, exist_ok=True)
        (pytester.path / name).write_text(text)
    pytester.makeconftest(
        PACKAGE["conftest.py"]
        + "\nfrom suitescope.coverage import engine\n\n"
        + "engine.CoverageEngine.take = lambda self: (_ for _ in ()).throw(RuntimeError('moved'))\n"
    )
    result = pytester.runpytest_subprocess(
        "--suitescope", "--suitescope-cov=pkg", "--suitescope-cov-map", "-p", "no:cacheprovider"
    )
    result.assert_outcomes(passed=2)
    assert "suitescope: coverage map disabled after an internal error (RuntimeError: moved)" in result.stdout.str()
    run, _ = read_run(pytester.path)
    assert run["coverage"]["covered"] == 10  # the totals are unaffected
