"""The codec: round trips, forgiving reads of torn lines, and a clear refusal of unknown major versions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from suitescope.schema import SCHEMA_VERSION, SchemaVersionError, dumps, from_json, read_ndjson, to_json


def record(**fields: Any) -> Any:
    return {"schema_version": SCHEMA_VERSION, "kind": "test", "run_id": "r1", "id": "t::a", **fields}


@given(st.text(), st.floats(allow_nan=False, allow_infinity=False))
def test_round_trip_keeps_any_text_and_number(message: str, duration: float) -> None:
    original = record(message=message, duration_ms=duration)
    line = to_json(original)
    assert "\n" not in line
    assert from_json(line) == original


def test_malformed_lines_are_skipped_and_counted(tmp_path: Path) -> None:
    path = tmp_path / "run.ndjson"
    good = dumps([record(), record(id="t::b")])
    path.write_text(good + "not json\n[1, 2]\n" + json.dumps({"kind": "weird"}) + "\n" + '{"kind": "test", "sch')
    result = read_ndjson(path)
    assert [r["id"] for r in result.records] == ["t::a", "t::b"]  # type: ignore[typeddict-item]
    assert result.skipped == 4
    assert len(result.warnings) == 4
    assert result.warnings[0].startswith(f"{path}:3: skipped malformed line")


def test_an_unknown_major_version_is_refused_with_its_name(tmp_path: Path) -> None:
    path = tmp_path / "future.ndjson"
    path.write_text(dumps([record()]) + json.dumps(record(schema_version="2.1.0")) + "\n")
    with pytest.raises(SchemaVersionError, match=r"future.ndjson:2: record has schema_version 2\.1\.0.*upgrade"):
        read_ndjson(path)


def test_a_newer_minor_version_is_read() -> None:
    assert from_json(json.dumps(record(schema_version="1.7.0", new_field=1)))["kind"] == "test"


@pytest.mark.parametrize("version", [None, 1, "one", ""])
def test_a_missing_or_garbled_version_is_a_malformed_line(version: object) -> None:
    with pytest.raises(ValueError, match="schema_version"):
        from_json(json.dumps(record(schema_version=version)))


def test_nan_is_never_written() -> None:
    with pytest.raises(ValueError, match="Out of range"):
        to_json(record(duration_ms=float("nan")))
