"""Affected-test selection from the per-test map, on a git repository made here: an edit inside a function
selects the tests that ran it; a conftest or a data file selects every test; a test the map never saw runs."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from suitescope.cli.commands import cli
from suitescope.coverage.affected import Change, parse_diff, select

DIFF = """\
diff --git a/pkg/calc.py b/pkg/calc.py
--- a/pkg/calc.py
+++ b/pkg/calc.py
@@ -3 +3 @@ def add(a, b):
-    return a + b
+    return b + a
@@ -10,0 +11,2 @@ def mul(a, b):
+    # a comment
+    pass
diff --git a/pkg/gone.py b/pkg/gone.py
--- a/pkg/gone.py
+++ /dev/null
@@ -1,2 +0,0 @@
-def x():
-    pass
diff --git a/pkg/new.py b/pkg/new.py
--- /dev/null
+++ b/pkg/new.py
@@ -0,0 +1 @@
+VALUE = 1
"""


def test_a_diff_is_read_as_the_old_sides_lines() -> None:
    change = parse_diff(DIFF)
    assert change.lines == {"pkg/calc.py": {3, 10, 11}, "pkg/gone.py": None, "pkg/new.py": None}


def test_selection_and_its_reasons() -> None:
    coverage_map = {
        "tests/test_calc.py::test_add": {"pkg/calc.py": [2, 3]},
        "tests/test_calc.py::test_mul": {"pkg/calc.py": [9, 12]},
        "tests/test_other.py::test_x": {"pkg/other.py": [1]},
    }
    change = Change({"pkg/calc.py": {3}, "tests/test_other.py": {5}})
    tests = [*coverage_map, "tests/test_new.py::test_new"]
    reasons = select(tests, coverage_map, change).reasons
    assert reasons == {
        "tests/test_calc.py::test_add": "it ran pkg/calc.py lines 3, changed",
        "tests/test_other.py::test_x": "its file tests/test_other.py changed",
        "tests/test_new.py::test_new": "no coverage map of it",
    }
    everything = select(tests, coverage_map, Change({"data/prices.json": None})).reasons
    assert set(everything) == set(tests) and "data/prices.json changed" in everything[tests[0]]
    assert set(select(tests, coverage_map, Change({"tests/conftest.py": {1}})).reasons) == set(tests)


FILES = {
    "pkg/__init__.py": "",
    "pkg/calc.py": "def add(a, b):\n    total = a + b\n    return total\n\n\ndef mul(a, b):\n    product = a * b\n"
    "    return product\n",
    "data/rates.json": '{"rate": 2}\n',
    "tests/__init__.py": "",
    "tests/conftest.py": "import pytest\n\n\n@pytest.fixture\ndef two():\n    return 2\n",
    "tests/test_calc.py": "from pkg.calc import add, mul\n\n\ndef test_add(two):\n    assert add(two, 1) == 3\n\n\n"
    "def test_mul(two):\n    assert mul(two, 3) == 6\n",
}


def git(root: Path, *args: str) -> None:
    identity = ["-c", "user.email=test@example.invalid", "-c", "user.name=test"]
    subprocess.run(["git", *identity, *args], cwd=root, check=True, capture_output=True)


@pytest.fixture
def repo(pytester: pytest.Pytester) -> Path:
    root = pytester.path
    for name, text in FILES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    (root / ".gitignore").write_text(".telemetry/\n")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", ".")
    git(root, "commit", "-qm", "first")
    pytester.runpytest_subprocess(
        "--suitescope", "--suitescope-cov=pkg", "--suitescope-cov-map", "-p", "no:cacheprovider"
    ).assert_outcomes(passed=2)
    return root


def affected(root: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.chdir(root)
    result = CliRunner().invoke(cli, ["affected", "--since", "HEAD", "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)  # type: ignore[no-any-return]


def test_an_edit_in_a_function_selects_the_tests_that_ran_it(
    repo: Path, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    calc = repo / "pkg" / "calc.py"
    calc.write_text(calc.read_text().replace("product = a * b", "product = b * a"))
    assert affected(repo, monkeypatch) == {"tests/test_calc.py::test_mul": "it ran pkg/calc.py lines 7, changed"}
    explained = CliRunner().invoke(cli, ["affected", "--since", "HEAD", "--explain"]).output
    assert explained.strip() == "tests/test_calc.py::test_mul  # it ran pkg/calc.py lines 7, changed"
    # pytest runs only that one, and a test the map never saw.
    (repo / "tests" / "test_new.py").write_text("def test_new():\n    assert True\n")
    result = pytester.runpytest_subprocess("--suitescope-affected=HEAD", "-p", "no:cacheprovider", "-v")
    result.assert_outcomes(passed=2, deselected=1)
    assert "suitescope: 2 of 3 tests affected since HEAD" in result.stdout.str()
    assert "test_mul PASSED" in result.stdout.str() and "test_new PASSED" in result.stdout.str()


@pytest.mark.parametrize("edited", ["tests/conftest.py", "data/rates.json"])
def test_a_conftest_or_a_data_file_selects_every_test(repo: Path, monkeypatch: pytest.MonkeyPatch, edited: str) -> None:
    (repo / edited).write_text((repo / edited).read_text() + "\n")
    reasons = affected(repo, monkeypatch)
    assert set(reasons) == {"tests/test_calc.py::test_add", "tests/test_calc.py::test_mul"}
    assert all(f"{edited} changed" in reason for reason in reasons.values())


def test_without_a_map_or_with_a_bad_revision_the_error_says_what_to_do(pytester: pytest.Pytester, repo: Path) -> None:
    bad = pytester.runpytest_subprocess("--suitescope-affected=no-such-rev", "-p", "no:cacheprovider")
    assert bad.ret == pytest.ExitCode.USAGE_ERROR
    assert "git diff no-such-rev failed" in bad.stderr.str()
    for path in (repo / ".telemetry").glob("*.testmap"):
        path.unlink()
    missing = pytester.runpytest_subprocess("--suitescope-affected=HEAD", "-p", "no:cacheprovider")
    assert missing.ret == pytest.ExitCode.USAGE_ERROR
    assert "record one first with --suitescope --suitescope-cov=SOURCE --suitescope-cov-map" in missing.stderr.str()


def test_a_test_of_the_run_missing_from_the_map_is_selected(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sqlite3

    (map_file,) = (repo / ".telemetry").glob("*.testmap")
    with sqlite3.connect(map_file) as db:  # as if the map had lost one test (a worker's segment, say)
        db.execute("DELETE FROM hit WHERE test_id IN (SELECT id FROM test WHERE nodeid LIKE '%test_add')")
        db.execute("DELETE FROM test WHERE nodeid LIKE '%test_add'")
    db.close()
    calc = repo / "pkg" / "calc.py"
    calc.write_text(calc.read_text().replace("product = a * b", "product = b * a"))
    assert affected(repo, monkeypatch) == {
        "tests/test_calc.py::test_add": "no coverage map of it",
        "tests/test_calc.py::test_mul": "it ran pkg/calc.py lines 7, changed",
    }
