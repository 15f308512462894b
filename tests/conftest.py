"""Shared fixtures. SUITESCOPE_STRICT=1 makes the guard re-raise: our own bugs fail our tests instead of
becoming a summary line (the contract tests that prove the swallowing switch it off again)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

os.environ["SUITESCOPE_STRICT"] = "1"
for _name in ("SUITESCOPE", "SUITESCOPE_DIR", "DO_NOT_TRACK"):
    os.environ.pop(_name, None)


def read_runs(directory: Path) -> list[list[dict[str, Any]]]:
    """Every run file of a directory, oldest first, as lists of decoded records."""
    return [
        # split on newlines only, as the readers do: a JSON line may hold U+2028, which splitlines() splits on
        [json.loads(line) for line in path.read_text(encoding="utf-8").split("\n") if line.strip()]
        for path in sorted(directory.glob("*.ndjson"))
    ]


def read_run(root: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The single run recorded under `root/.telemetry`: (run record, test records)."""
    runs = read_runs(root / ".telemetry")
    assert len(runs) == 1, f"expected one run file, found {len(runs)}"
    records = runs[0]
    run = [r for r in records if r["kind"] == "run"]
    assert len(run) == 1, "the run record is missing"
    assert records[-1]["kind"] == "run", "the run record must be written last"
    return run[0], [r for r in records if r["kind"] == "test"]


def by_id(tests: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Final attempts keyed by the test's name (the part of the id after the last ::)."""
    return {t["id"].rpartition("::")[2]: t for t in tests if t["final"]}


@pytest.fixture
def no_strict(monkeypatch: pytest.MonkeyPatch) -> None:
    """For tests of the swallowing itself: the guard behaves as it does in users' suites."""
    monkeypatch.delenv("SUITESCOPE_STRICT")
