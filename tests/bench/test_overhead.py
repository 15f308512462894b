"""The overhead benchmark runs end to end on a small suite (its figures are for docs/benchmarks.md, not here)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from suitescope.cli.commands import cli

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_benchmark_runs_every_variant_and_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    result = CliRunner().invoke(
        cli,
        [
            "bench",
            "overhead",
            "--repo",
            str(REPO),
            "--tests",
            "100",
            "--pairs",
            "1",
            "--workers",
            "0",
            "--json",
            str(out),
            "--quiet",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "time ratio" in result.output and "target" in result.output
    data = json.loads(out.read_text())
    assert data["tests"] == 100
    rows = data["results"]["0"]
    assert set(rows) == {"plain", "suitescope", "bare", "junitxml", "reportlog"}
    assert rows["plain"]["time_ratio"] == 1.0
    assert all(row["median_seconds"] > 0 and row["median_peak_rss_mib"] > 0 for row in rows.values())
    selves = data["self_time"]["0"]
    assert set(selves) == set(rows)  # plain too: its garbage collection is the yardstick for the others'
    assert all(mine["gc_s"] > 0 and isinstance(mine["full_collections"], int) for mine in selves.values())
    assert all(mine["suitescope_s"] > 0 for variant, mine in selves.items() if variant != "plain")
    assert "GC " in result.output


def test_bench_outside_a_checkout_says_how_to_fix_it(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["bench", "overhead", "--repo", str(tmp_path)])
    assert result.exit_code == 2
    assert "run this from a suitescope checkout, or pass --repo PATH" in result.output


@pytest.mark.slow
def test_runner_benchmark_runs_every_variant(tmp_path: Path) -> None:
    out = tmp_path / "runners.json"
    args = ["--unittest-tests", "100", "--django-tests", "50", "--work", "0", "--rounds", "1", "--quiet"]
    result = CliRunner().invoke(cli, ["bench", "runners", "--repo", str(REPO), *args, "--json", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    for kind, tests in (("unittest", 100), ("django", 50)):
        assert data[kind]["tests"] == tests
        assert set(data[kind]["results"]) == {"plain", "bare", "all"}
        assert data[kind]["results"]["plain"]["time_ratio"] == 1.0
        assert all(mine["ours_s"] > 0 for mine in data[kind]["self_time"].values())


@pytest.mark.slow
def test_coverage_map_benchmark_runs(tmp_path: Path) -> None:
    out = tmp_path / "coverage.json"
    args = ["--modules", "12", "--tests", "24", "--shards", "2", "--rounds", "1", "--quiet", "--json", str(out)]
    result = CliRunner().invoke(cli, ["bench", "coverage", "--repo", str(REPO), *args])
    assert result.exit_code == 0, result.output
    assert "merge:" in result.output and "size:" in result.output and "wall:" in result.output
    data = json.loads(out.read_text())
    assert data["suitescope_merged_bytes"] > 0 and data["coverage_combined_bytes"] > 0
    assert len(data["wall"]["plain --cov"]) == len(data["wall"]["suitescope map"]) == 1


def ensure_valgrind() -> None:
    """valgrind comes from Debian (it is on every machine this project's CI runs on); installed when missing,
    and the test fails, never skips, when it cannot be had."""
    if shutil.which("valgrind") is None:
        subprocess.run(["apt-get", "update", "-q"], capture_output=True, check=False)
        subprocess.run(["apt-get", "install", "-y", "-q", "valgrind"], capture_output=True, check=False)
    assert shutil.which("valgrind"), "valgrind is needed: apt-get install valgrind"


@pytest.mark.slow
def test_instruction_counts_come_from_callgrind(tmp_path: Path) -> None:
    from tests.bench.instructions import instructions, render
    from tests.bench.overhead import generate

    ensure_valgrind()
    tests = generate(tmp_path, 100)
    count = instructions(tmp_path, "bare")
    assert count > 100_000_000  # a Python process that starts pytest executes billions; callgrind counted them
    small = {"plain": count - 100, "bare": count}
    table = render(small, {"plain": count + 900, "bare": count + 1100}, (tests, 2 * tests), 1000)
    # per test: plain (900 + 100) / 100 = 10, bare 1100 / 100 = 11; fixed: both count - 1100; at 1000 tests:
    # plain count + 8900, bare count + 9900
    assert table.splitlines()[4].split()[-3:] == ["0", "1", f"{(count + 9900) / (count + 8900):.3f}"]
