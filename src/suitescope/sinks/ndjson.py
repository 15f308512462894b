"""The NDJSON sink: one file per run, `<dir>/<run_id>.ndjson`, opened once, written in batches.

A run never overwrites another (run ids are unique and the file is opened with "x"). Each record is encoded as it
arrives and waits as a line; the lines are written together every `BATCH_RECORDS` records or once a second,
whichever comes first, and at `close()`: the cost per test is one encoding and an append to a list (never an
open or a system call), and a process killed outright loses at most the last second of records. Lines, not
records, wait because a string is invisible to the garbage collector: 512 waiting records of a dozen dicts each
would survive young collections into the old generation and make full collections of the suite's whole heap
come sooner (measured: a sixth more time in the collector).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TextIO

from suitescope.schema.codec import to_json
from suitescope.schema.records import Record

BATCH_RECORDS = 512
FLUSH_EVERY_S = 1.0


def run_file(directory: Path, run_id: str) -> Path:
    return directory / f"{run_id}.ndjson"


class NdjsonSink:
    """Appends records of one run to its file; raises OSError on an unwritable directory or a full disk."""

    def __init__(self, directory: Path, run_id: str) -> None:
        self.path = run_file(directory, run_id)
        self.written = 0
        self._fh: TextIO | None = None
        self._pending: list[str] = []  # encoded lines, without their newline
        self._next_flush = 0.0  # the first record is written at once: a run in progress is visible

    def open(self) -> TextIO:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = self.path.open("x", encoding="utf-8")
        return self._fh

    def write(self, record: Record | str) -> None:
        """Queue a record, or one already encoded as a JSON line (without its newline)."""
        self._pending.append(record if isinstance(record, str) else to_json(record))
        self.written += 1
        if len(self._pending) >= BATCH_RECORDS or time.monotonic() >= self._next_flush:
            self.flush()

    def write_lines(self, lines: list[str]) -> None:
        """Queue records already encoded as JSON lines (without their newlines): a batch costs one call."""
        self._pending.extend(lines)
        self.written += len(lines)
        if len(self._pending) >= BATCH_RECORDS or time.monotonic() >= self._next_flush:
            self.flush()

    def flush(self) -> None:
        """Write the waiting lines, and hand them to the operating system."""
        fh = self._fh or self.open()
        pending, self._pending = self._pending, []
        pending.append("")  # the last line's newline
        fh.write("\n".join(pending))
        fh.flush()
        self._next_flush = time.monotonic() + FLUSH_EVERY_S

    def close(self) -> None:
        if self._fh is not None or self._pending:
            self.flush()
        fh, self._fh = self._fh, None
        if fh is not None:
            fh.close()
