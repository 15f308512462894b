"""The NDJSON sink: one file per run, `<dir>/<run_id>.ndjson`, opened once and written through a buffer.

A run never overwrites another (run ids are unique and the file is opened with "x"). Records are buffered in
memory by the file object and reach the disk when the buffer fills, at `close()`, and at most once a second
otherwise, so the cost per test is an append to a buffer (never an open), and a process killed outright loses at
most the last second of records.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TextIO

from suitescope.schema.codec import to_json
from suitescope.schema.records import Record

BUFFER_BYTES = 256 * 1024
FLUSH_EVERY_S = 1.0


def run_file(directory: Path, run_id: str) -> Path:
    return directory / f"{run_id}.ndjson"


class NdjsonSink:
    """Appends records of one run to its file; raises OSError on an unwritable directory or a full disk."""

    def __init__(self, directory: Path, run_id: str) -> None:
        self.path = run_file(directory, run_id)
        self.written = 0
        self._fh: TextIO | None = None
        self._next_flush = 0.0

    def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = self.path.open("x", encoding="utf-8", buffering=BUFFER_BYTES)

    def write(self, record: Record) -> None:
        if self._fh is None:
            self.open()
        assert self._fh is not None
        self._fh.write(to_json(record) + "\n")
        self.written += 1
        now = time.monotonic()
        if now >= self._next_flush:
            self._fh.flush()
            self._next_flush = now + FLUSH_EVERY_S

    def flush(self) -> None:
        if self._fh is not None:
            self._fh.flush()

    def close(self) -> None:
        fh, self._fh = self._fh, None
        if fh is not None:
            fh.close()
