"""Smaller parts of the plugin: option names, project names, timestamps, run ids, runs that are not runs."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from suitescope.collector.attempt import utc_iso
from suitescope.collector.run_options import option_names, split_project
from suitescope.schema.ids import new_run_id
from tests.conftest import read_runs


def test_option_names_never_keep_values() -> None:
    args = ["-n4", "--dist=loadscope", "-k", "slow and not db", "tests/x.py", "-vv", "--suitescope", "-"]
    assert option_names(args) == ["--dist", "--suitescope", "-k", "-n", "-v"]


@pytest.mark.parametrize(
    ("name", "expected"),
    [(None, (None, None)), ("shop", ("shop", None)), ("acme/shop", ("shop", "acme")), ("a/b/c", ("c", "a/b"))],
)
def test_split_project(name: str | None, expected: tuple[str | None, str | None]) -> None:
    assert split_project(name) == expected


@given(st.floats(min_value=0, max_value=4_000_000_000))
def test_utc_iso_matches_datetime(epoch: float) -> None:
    expected = datetime.fromtimestamp(epoch, tz=timezone.utc).isoformat(timespec="microseconds")
    assert utc_iso(epoch) == expected.replace("+00:00", "Z")


def test_run_ids_are_unique_time_ordered_uuid7() -> None:
    ids = [new_run_id() for _ in range(2000)]
    assert len(set(ids)) == len(ids)
    assert all(uuid.UUID(i).version == 7 for i in ids)
    stamps = [uuid.UUID(i).int >> 80 for i in ids]
    assert stamps == sorted(stamps)


@pytest.mark.parametrize("option", ["--collect-only", "--fixtures", "--markers", "--help", "--setup-plan"])
def test_runs_that_show_instead_of_test_are_not_recorded(pytester: pytest.Pytester, option: str) -> None:
    pytester.makepyfile(test_one="def test_one(): pass")
    pytester.runpytest("--suitescope", option)
    assert not (pytester.path / ".telemetry").exists()


def test_a_killed_run_leaves_what_it_had_written(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_kill="""
        import os
        def test_first(): pass
        def test_killed(): os._exit(9)
        """
    )
    result = pytester.runpytest_subprocess("--suitescope")
    assert result.ret == 9
    (records,) = read_runs(pytester.path / ".telemetry")
    assert [r["kind"] for r in records] == ["test"]  # the first test reached the disk; no run record
    assert records[0]["id"] == "test_kill.py::test_first"
