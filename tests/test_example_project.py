"""The example project of `make demo`: `pytest --suitescope` there writes runs that `suitescope report` reads."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from suitescope.cli.commands import cli

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "shop"


@pytest.mark.slow
def own_address(monkeypatch: pytest.MonkeyPatch) -> str:
    """The address the example's price service answers on (its fixture's own choice)."""
    monkeypatch.syspath_prepend(str(EXAMPLE))
    spec = importlib.util.spec_from_file_location("example_test_orders", EXAMPLE / "tests" / "test_orders.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    address: str = module.own_address()
    return address


def test_example_suite_is_recorded_and_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = tmp_path / "shop"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns(".telemetry", "__pycache__"))
    for extra in ([], ["-n", "2"]):
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "--suitescope", "-q", "-p", "no:cacheprovider", *extra],
            cwd=project,
            capture_output=True,
            text=True,
            check=False,
        )
        assert proc.returncode in (0, 1), proc.stdout + proc.stderr  # the flaky test may fail: that is its job
    result = CliRunner().invoke(cli, ["report", "--json", str(project / ".telemetry")])
    assert result.exit_code == 0, result.output
    runs = json.loads(result.output)["runs"]
    assert len(runs) == 2
    for run in runs:
        assert run["project"] == "shop"
        assert run["tests"] == run["tests_expected"] == 21
        assert run["counts"]["skipped"] == 1 and run["counts"]["xfailed"] == 1
        assert run["assertions"]["passed"] is not None  # the example turns the assertion-pass hook on
    data = json.loads(result.output)
    [finding] = data["n_plus_one"]
    assert (finding["id"], finding["max_count"]) == ("tests/test_orders.py::test_totals_by_customer", 6)
    assert data["most_queries"][0]["id"] == "tests/test_orders.py::test_totals_by_customer"
    assert runs[1]["workers"] == 2
    assert data["slowest"][0]["id"] == "tests/test_orders.py::test_monthly_report_takes_its_time"
    if own_address(monkeypatch) != "127.0.0.1":  # the price service answers on this machine's network address
        [unmocked] = data["external_network"]
        assert unmocked["id"] == "tests/test_orders.py::test_price_comes_from_the_service"
        assert len(unmocked["runs"]) == 2 and any(host.startswith("http://") for host in unmocked["hosts"]), unmocked
