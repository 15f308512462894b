"""The NDJSON sink: one file per run, never overwritten, written through one open file."""

from __future__ import annotations

import builtins
from pathlib import Path
from typing import Any

import pytest

from suitescope.schema import SCHEMA_VERSION, read_ndjson
from suitescope.sinks import NdjsonSink, run_file


def record(i: int) -> Any:
    return {"schema_version": SCHEMA_VERSION, "kind": "test", "run_id": "r", "id": f"t{i}"}


def test_records_land_in_one_file_opened_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[Any] = []
    real_open = builtins.open
    monkeypatch.setattr(Path, "open", lambda self, *a, **k: opened.append(self) or real_open(self, *a, **k))
    sink = NdjsonSink(tmp_path / "deep" / "dir", "run-1")
    sink.open()
    for i in range(1000):
        sink.write(record(i))
    sink.close()
    assert len(opened) == 1
    assert sink.written == 1000
    assert len(read_ndjson(run_file(tmp_path / "deep" / "dir", "run-1")).records) == 1000


def test_a_run_file_is_never_overwritten(tmp_path: Path) -> None:
    first = NdjsonSink(tmp_path, "same")
    first.open()
    with pytest.raises(FileExistsError):
        NdjsonSink(tmp_path, "same").open()
    first.close()


def test_an_unwritable_directory_raises_oserror(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(OSError, match="file"):
        NdjsonSink(tmp_path / "file" / "sub", "r").open()
