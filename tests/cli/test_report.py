"""`suitescope report`: tables and JSON from recorded runs, partial runs, bad input with clear errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from suitescope.cli.commands import cli
from tests.collector.suites import EVERY_OUTCOME, INI


@pytest.fixture
def recorded(pytester: pytest.Pytester) -> Path:
    """Two recorded runs of the every-outcome suite, with a test whose name holds rich markup."""
    pytester.makeini(INI)
    pytester.makepyfile(
        test_all=EVERY_OUTCOME + '\n@pytest.mark.parametrize("v", ["[red]x[/red]"])\ndef test_markup(v):\n'
        "    assert v == 1\n"
    )
    pytester.runpytest("--suitescope")
    pytester.runpytest("--suitescope")
    return pytester.path / ".telemetry"


def report(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["report", *args], env={"COLUMNS": "250"})
    return result.exit_code, result.output


def test_json_report_has_runs_slowest_and_failure_groups(recorded: Path) -> None:
    code, out = report("--json", str(recorded))
    assert code == 0
    data = json.loads(out)
    assert len(data["runs"]) == 2
    assert data["runs"][0]["counts"] == {"passed": 4, "failed": 4, "error": 2, "skipped": 3, "xfailed": 1, "xpassed": 1}
    assert data["runs"][0]["state"] == "completed"
    assert len(data["slowest"]) == 10
    by_type = {g["type"]: g for g in data["failure_groups"]}
    assert by_type["KeyError"]["count"] == 2 and len(by_type["KeyError"]["runs"]) == 2
    assert by_type["KeyError"]["tests"] == ["test_all.py::test_raises"]
    asserts = [g for g in data["failure_groups"] if g["type"] == "AssertionError"]
    assert sorted(g["count"] for g in asserts) == [2, 2]  # test_fails and test_markup fail in different places
    assert data["warnings"] == []


def test_text_report_shows_tables_and_keeps_markup_literal(recorded: Path) -> None:
    code, out = report(str(recorded), "--slowest", "3")
    assert code == 0
    assert "2 runs" in out
    assert "4 passed, 4 failed, 2 error" in out
    assert "Slowest tests" in out and "Failures grouped by fingerprint" in out
    assert "KeyError" in out
    assert "test_all.py::test_markup[[red]x[/red]]" in out


def test_a_run_in_progress_is_read_as_far_as_it_goes(recorded: Path) -> None:
    path = sorted(recorded.glob("*.ndjson"))[0]
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:5]) + "\n" + lines[5][:20])  # no run record, and a torn last line
    code, out = report("--json", str(path))
    assert code == 0
    data = json.loads(out)
    (run,) = data["runs"]
    assert run["state"] == "running" and run["tests"] == 5
    assert len(data["warnings"]) == 1 and "skipped malformed line" in data["warnings"][0]


def test_errors_say_what_to_do(tmp_path: Path) -> None:
    code, out = report(str(tmp_path / "missing"))
    assert code == 1 and "no such file or directory" in out
    code, out = report(str(tmp_path))
    assert code == 1 and "pytest --suitescope" in out
    (tmp_path / "future.ndjson").write_text(json.dumps({"schema_version": "9.0.0", "kind": "run", "run_id": "x"}))
    code, out = report(str(tmp_path))
    assert code == 1 and "schema_version 9.0.0" in out and "upgrade suitescope" in out


def test_help_answers() -> None:
    result = CliRunner().invoke(cli, ["report", "--help"])
    assert result.exit_code == 0 and "--json" in result.output and "in progress" in result.output


def test_missing_cli_extra_gives_an_install_hint() -> None:
    code = "import sys; sys.modules['click'] = None; from suitescope.cli.main import main; main()"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "pip install 'suitescope[cli]'" in proc.stderr


EFFECTS_SUITE = """
import socket
import sqlite3

HOLD = []

def test_n_plus_one():
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (id INTEGER)")
    for i in range(8):
        conn.execute("SELECT id FROM t WHERE id = ?", (i,))
    conn.close()

def test_external():
    sock = socket.socket()
    sock.setblocking(False)
    try:
        sock.connect_ex(("192.0.2.7", 8080))
    finally:
        sock.close()

def test_leaks():
    HOLD.append(b"z" * (30 * 1024 * 1024))
"""


def test_report_shows_what_the_instruments_saw(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_effects=EFFECTS_SUITE)
    pytester.runpytest("--suitescope", "-p", "no:randomly").assert_outcomes(passed=3)
    pytester.runpytest("--suitescope", "-p", "no:randomly").assert_outcomes(passed=3)
    telemetry = str(pytester.path / ".telemetry")
    code, out = report("--json", telemetry)
    data = json.loads(out)
    [heavy, *_] = data["most_queries"]
    assert (heavy["id"], heavy["median_queries"], heavy["runs"]) == ("test_effects.py::test_n_plus_one", 9, 2)
    [finding] = data["n_plus_one"]
    assert (finding["sql"], finding["max_count"], len(finding["runs"])) == ("SELECT id FROM t WHERE id = ?", 8, 2)
    [external] = data["external_network"]
    assert (external["id"], external["hosts"], external["calls"]) == (
        "test_effects.py::test_external",
        ["192.0.2.7:8080"],
        2,
    )
    assert data["memory_growth"][0]["id"] == "test_effects.py::test_leaks"
    assert data["memory_growth"][0]["max_growth_kb"] >= 29 * 1024
    code, out = report(telemetry)
    assert code == 0
    for title in ("Tests by database queries", "N+1 queries", "reached other machines", "memory left behind"):
        assert title in out
    assert "192.0.2.7:8080" in out


def test_records_of_schema_1_0_without_instrument_fields_are_read(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_two="def test_a(): pass\n\ndef test_b(): pass\n")
    pytester.runpytest("--suitescope").assert_outcomes(passed=2)
    [path] = (pytester.path / ".telemetry").glob("*.ndjson")
    older = []
    for line in path.read_text().splitlines():
        record = json.loads(line)
        record["schema_version"] = "1.0.0"
        for key in ("db", "db_queries", "network", "net_urls", "memory", "cpu", "effects"):
            record.pop(key, None)
        older.append(json.dumps(record))
    path.write_text("\n".join(older) + "\n")
    code, out = report("--json", str(path))
    assert code == 0, out
    data = json.loads(out)
    assert data["runs"][0]["counts"]["passed"] == 2
    assert data["most_queries"] == data["n_plus_one"] == data["external_network"] == data["memory_growth"] == []
