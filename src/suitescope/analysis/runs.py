"""Group records into runs, rebuilding the summary of a run whose run record is missing.

A run still in progress, or one whose process was killed, has test records but no run record yet; it is read as
far as it goes, with its counts derived from the tests, and marked `running`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from suitescope.schema.codec import read_ndjson
from suitescope.schema.records import Record, RunRecord, TestRecord
from suitescope.schema.summary import Tally


@dataclass
class Run:
    """One run: its run record (None while in progress) and its test records in the order written."""

    run_id: str
    run: RunRecord | None = None
    tests: list[TestRecord] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return self.run is not None

    def tally(self) -> Tally:
        tally = Tally()
        for test in self.tests:
            tally.add(test)
        return tally


@dataclass
class Loaded:
    runs: list[Run]
    warnings: list[str]
    skipped_lines: int


def group_runs(records: Iterable[Record]) -> list[Run]:
    """Runs in the order they first appear."""
    runs: dict[str, Run] = {}
    for record in records:
        run = runs.setdefault(record["run_id"], Run(record["run_id"]))
        if record["kind"] == "run":
            run.run = record
        else:
            run.tests.append(record)
    return list(runs.values())


def run_files(paths: Iterable[Path]) -> list[Path]:
    """NDJSON files named by `paths`: files as given, directories searched for `*.ndjson`, oldest run first."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            # Run ids are time-ordered: name order is start order. A dry run's payload is not a run of its own.
            files.extend(sorted(p for p in path.glob("*.ndjson") if not p.name.endswith(".payload.ndjson")))
        elif path.exists():
            files.append(path)
        else:
            raise FileNotFoundError(f"{path}: no such file or directory")
    return files


def load_runs(paths: Iterable[Path]) -> Loaded:
    records: list[Record] = []
    warnings: list[str] = []
    skipped = 0
    for path in run_files(paths):
        result = read_ndjson(path)
        records.extend(result.records)
        warnings.extend(result.warnings)
        skipped += result.skipped
    return Loaded(group_runs(records), warnings, skipped)
