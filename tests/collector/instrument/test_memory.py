"""Memory and CPU per test in each mode, and peak memory per process in the run record."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.collector.instrument.suites import MEMORY_SUITE
from tests.conftest import by_id, read_run

MB_KB = 1024


def run_memory_suite(pytester: pytest.Pytester, *args: str) -> dict[str, dict[str, object]]:
    pytester.makepyfile(test_mem=MEMORY_SUITE)
    pytester.runpytest_subprocess("--suitescope", "-p", "no:randomly", *args).assert_outcomes(passed=4)
    _, tests = read_run(pytester.path)
    return {name: test["memory"] for name, test in by_id(tests).items()} | {"cpu": by_id(tests)["test_d_cpu"]["cpu"]}


def rise(memory: dict[str, int]) -> int:
    return memory["rss_peak_kb"] - memory["rss_start_kb"]


def test_rss_mode(pytester: pytest.Pytester) -> None:
    memory = run_memory_suite(pytester)
    big, smaller, hold = memory["test_a_big_transient"], memory["test_b_smaller_transient"], memory["test_c_hold"]
    assert big["peak_exact"] and rise(big) >= 190 * MB_KB  # raised the process's high-water mark: exact
    assert abs(big["growth_kb"]) < 20 * MB_KB  # and gave it back
    assert not smaller["peak_exact"]  # below the earlier high-water mark: only a lower bound is known
    assert smaller["rss_peak_kb"] == max(smaller["rss_start_kb"], smaller["rss_end_kb"])
    assert hold["growth_kb"] >= 55 * MB_KB
    assert big["top"] is None and big["traced_peak_kb"] is None
    cpu = memory["cpu"]
    assert cpu["user_ms"] + cpu["system_ms"] >= 190  # the test spun until it had used 200 ms of CPU


def test_peak_mode_makes_every_peak_exact(pytester: pytest.Pytester) -> None:
    memory = run_memory_suite(pytester, "--suitescope-memory=peak")
    smaller = memory["test_b_smaller_transient"]
    assert smaller["peak_exact"] and rise(smaller) >= 95 * MB_KB


def test_tracemalloc_mode_names_the_allocating_line(pytester: pytest.Pytester) -> None:
    memory = run_memory_suite(pytester, "--suitescope-memory=tracemalloc")
    hold = memory["test_c_hold"]
    top = hold["top"]
    source = (pytester.path / "test_mem.py").read_text().splitlines()
    line = next(n for n, text in enumerate(source, 1) if "HOLD.append" in text)
    assert top[0]["site"] == f"test_mem.py:{line}" and top[0]["size_kb"] >= 60 * MB_KB
    assert hold["traced_peak_kb"] >= 60 * MB_KB


def test_peak_memory_of_every_process(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_mem=MEMORY_SUITE)
    pytester.runpytest_subprocess("--suitescope", "-n", "2").assert_outcomes(passed=4)
    run, tests = read_run(pytester.path)
    processes = run["memory"]["processes"]
    assert set(processes) == {"main", "gw0", "gw1"}
    assert run["memory"]["peak_rss_kb"] == max(processes.values())
    by_worker = {t["worker"]: t["memory"]["rss_peak_kb"] for t in tests if t["name"] == "test_a_big_transient"}
    [(worker, peak)] = by_worker.items()
    assert processes[worker] >= peak >= 200 * MB_KB


@pytest.mark.parametrize("mode", ["rss", "peak"])
def test_a_peak_inherited_from_the_starting_process_is_not_counted(pytester: pytest.Pytester, mode: str) -> None:
    """Linux carries a process's peak RSS across exec: a test process started by one that had peaked at 600 MB
    begins with ru_maxrss at 600 MB. Neither the tests' peaks nor the run's may say 600 MB."""
    pytester.makepyfile(test_small="def test_small():\n    block = b'x' * (20 * 1024 * 1024)\n")
    starter = (
        "import subprocess, sys\n"
        "block = b'y' * (600 * 1024 * 1024)\n"
        "del block\n"
        f"sys.exit(subprocess.run([sys.executable, '-m', 'pytest', '-p', 'no:randomly', '--suitescope',"
        f" '--suitescope-memory={mode}']).returncode)\n"
    )
    assert subprocess.run([sys.executable, "-c", starter], cwd=pytester.path, check=False).returncode == 0
    run, tests = read_run(pytester.path)
    assert tests[0]["memory"]["rss_peak_kb"] < 300 * MB_KB
    assert tests[0]["memory"]["rss_peak_kb"] - tests[0]["memory"]["rss_start_kb"] >= 15 * MB_KB
    assert run["memory"]["peak_rss_kb"] < 300 * MB_KB
