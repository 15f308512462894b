"""`suitescope.django.TestRunner` on a real Django project, on SQLite and on the real PostgreSQL server, with and
without `--parallel 2`: Django's behaviour unchanged, every count equal to Django's own summary, one run file."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.collector.unittest.suites import DJANGO_PROJECT, figures_from_records, unittest_summary
from tests.collector.unittest.test_unittest_runner import write
from tests.conftest import read_run, read_runs

RUNNER = "--testrunner=suitescope.django.TestRunner"
PG = "host=127.0.0.1 user=postgres dbname=postgres"


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Path]:
    write(tmp_path, DJANGO_PROJECT)
    name = f"suitescope_{uuid.uuid4().hex[:10]}"
    (tmp_path / ".dbname").write_text(name)
    yield tmp_path
    with psycopg.connect(PG, autocommit=True) as conn:  # what Django did not drop (clones included)
        rows = conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", (f"%{name}%",)).fetchall()
        for (database,) in rows:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}"')


def manage(project: Path, database: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "DJANGO_DB": database, "DJANGO_DB_NAME": (project / ".dbname").read_text(), **env}
    return subprocess.run(
        [sys.executable, "manage.py", "test", "--noinput", *args],
        cwd=project,
        capture_output=True,
        text=True,
        env=environ,
        check=False,
        timeout=300,
    )


def by_name(tests: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {t["id"].rpartition(".")[2]: t for t in tests if t["when"] != "subtest"}


@pytest.mark.parametrize(
    ("database", "parallel"), [("sqlite", "1"), ("sqlite", "2"), ("postgresql", "1"), ("postgresql", "2")]
)
def test_counts_equal_djangos_summary(project: Path, database: str, parallel: str) -> None:
    result = manage(project, database, RUNNER, "--parallel", parallel)
    assert result.returncode == 1, result.stderr
    figures = unittest_summary(result.stderr)
    assert figures == {
        "ran": 11,
        "failures": 2,
        "errors": 2,
        "skipped": 1,
        "expected_failures": 1,
        "unexpected_successes": 0,
    }
    run, tests = read_run(project)
    assert figures_from_records(run, tests) == figures
    assert run["exit_status"] == 1 and run["state"] == "completed"
    assert run["environment"]["framework"]["name"] == "django"
    assert run["tests_expected"] == 12 and run["tests_executed"] == 11  # BrokenData's test never ran
    t = by_name(tests)
    assert (t["BrokenData"]["when"], t["BrokenData"]["name"]) == ("setup_class", "setUpClass")
    assert t["BrokenData"]["failure"]["message"] == "fixture data broke"
    assert t["test_error"]["failure"]["type"] == "library.models.Author.DoesNotExist"
    assert t["test_tagged"]["markers"] == ["slow"]
    assert t["test_num_queries"]["assertions"] == {"passed": 1, "failed": 0}  # assertNumQueries: one assertion
    assert t["test_contains"]["assertions"] == {"passed": 1, "failed": 0}
    workers = {x["worker"] for x in tests}
    if parallel == "2":
        assert run["configuration"]["workers"] == 2 and workers <= {"w1", "w2"} and len(workers) == 2
        assert set(run["memory"]["processes"]) == {"main", "w1", "w2"}
    else:
        assert run["configuration"]["workers"] == 0 and workers == {None}


@pytest.mark.parametrize(("database", "parallel"), [("sqlite", "2"), ("postgresql", "2"), ("postgresql", "1")])
def test_queries_on_every_alias(project: Path, database: str, parallel: str) -> None:
    manage(project, database, RUNNER, "--parallel", parallel)
    run, tests = read_run(project)
    t = by_name(tests)
    n_plus_one = t["test_n_plus_one"]
    assert [f["count"] for f in n_plus_one["db"]["n_plus_one"]] == [6]
    call = [q for q in n_plus_one["db_queries"] if q["phase"] == "call" and q["kind"] == "SELECT"]
    assert sum(q["count"] for q in call) == 7  # the authors, then each author's books
    other = [q for q in t["test_other_alias"]["db_queries"] if q["phase"] == "call"]
    assert [(q["database"], q["count"]) for q in other] == [("other", 1)]
    assert run["effects"]["n_plus_one_tests"] == 1


def normalised(output: str) -> str:
    return re.sub(r"Ran (\d+) tests? in [0-9.]+s", r"Ran \1 tests in Xs", output)


@pytest.mark.parametrize("args", [["-v", "2"], ["--failfast", "--reverse", "--keepdb"], ["--debug-sql"]])
def test_output_is_djangos(project: Path, args: list[str]) -> None:
    plain = manage(project, "sqlite", *args)
    recorded = manage(project, "sqlite", RUNNER, *args)
    assert recorded.returncode == plain.returncode == 1
    assert normalised(recorded.stdout) == normalised(plain.stdout)
    assert normalised(recorded.stderr) == normalised(plain.stderr)
    run, _ = read_run(project)
    if "--failfast" in args:  # stopped at the first failure: the tests it did not reach are missing
        assert run["tests_executed"] < run["tests_expected"]
        assert run["counts"]["failed"] + run["counts"]["error"] == 1


def test_shuffle_seed_tags_and_switching_off(project: Path) -> None:
    result = manage(project, "sqlite", RUNNER, "--shuffle", "1234", "--tag", "slow")
    assert result.returncode == 0, result.stderr
    run, tests = read_run(project)
    assert run["configuration"]["randomly_seed"] == 1234
    assert [t["name"] for t in tests] == ["test_tagged"]
    manage(project, "sqlite", RUNNER, "--no-suitescope")
    manage(project, "sqlite", RUNNER, SUITESCOPE="0")
    assert len(read_runs(project / ".telemetry")) == 1


def test_settings_test_runner_and_options(project: Path) -> None:
    settings = project / "site_settings.py"
    settings.write_text(settings.read_text() + '\nTEST_RUNNER = "suitescope.django.TestRunner"\n')
    result = manage(
        project, "sqlite", "--suitescope-instruments=none", "--suitescope-dir=out", "library.tests.test_books.Plain"
    )
    assert result.returncode == 0, result.stderr
    (records,) = read_runs(project / "out")
    tests = [r for r in records if r["kind"] == "test"]
    assert len(tests) == 2 and all(t["db"] is None for t in tests)
    bad = manage(project, "sqlite", "--suitescope-n-plus-one=1")
    assert bad.returncode != 0 and "the N+1 threshold must be 2 or more" in bad.stderr
    help_text = manage(project, "sqlite", "--help")
    assert "--suitescope-instruments" in help_text.stdout
