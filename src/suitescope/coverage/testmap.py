"""The per-test coverage map: which lines (and arcs) of which files each test ran, in one SQLite file per run.

Layout (`<run_id>.testmap`): `file(id, path)`, `test(id, nodeid, worker)`, `bits(id, numbits)`,
`arcs(id, pairs)` and `hit(test_id, file_id, bits_id, arcs_id)`. A test's lines in one file are a coverage.py
*numbits* blob (a bitmap, one bit a line); its arcs `(from, to)`, when branches are measured, a sorted array of
32-bit pairs (else `arcs_id` is null). Each blob is stored once however many tests ran exactly those lines:
most tests of a module run the same lines, so identical blobs are the rule, and the map holds one row per (test,
file), never one per line. Each process that runs tests writes a segment of its own with this layout; merging
segments is set-based SQL per table (`INSERT ... SELECT` with the ids shifted or looked up), not a row per line.
"""

from __future__ import annotations

import os
import sqlite3
from array import array
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS file (id INTEGER PRIMARY KEY, path TEXT UNIQUE NOT NULL);
CREATE TABLE IF NOT EXISTS test (id INTEGER PRIMARY KEY, nodeid TEXT NOT NULL, worker TEXT);
CREATE TABLE IF NOT EXISTS bits (id INTEGER PRIMARY KEY, numbits BLOB UNIQUE NOT NULL);
CREATE TABLE IF NOT EXISTS arcs (id INTEGER PRIMARY KEY, pairs BLOB UNIQUE NOT NULL);
CREATE TABLE IF NOT EXISTS hit (
    test_id INTEGER NOT NULL, file_id INTEGER NOT NULL, bits_id INTEGER NOT NULL, arcs_id INTEGER
);
"""


class MapWriter:
    """One process's segment: tests are added as they finish, written in one transaction at `close`."""

    def __init__(self, path: Path, worker: str | None) -> None:
        self.path = path
        self.worker = worker
        self.files: dict[str, int] = {}
        self.bits: dict[bytes, int] = {}
        self.arcs: dict[bytes, int] = {}
        self.tests: list[tuple[int, str, str | None]] = []
        self.hits: list[tuple[int, int, int, int | None]] = []

    def add(
        self,
        nodeid: str,
        lines_by_file: Mapping[str, Iterable[int]],
        arcs_by_file: Mapping[str, Iterable[tuple[int, int]] | None] | None = None,
    ) -> None:
        from coverage.numbits import nums_to_numbits

        test_id = len(self.tests) + 1
        self.tests.append((test_id, nodeid, self.worker))
        for path, lines in lines_by_file.items():
            file_id = self.files.setdefault(path, len(self.files) + 1)
            numbits = nums_to_numbits(sorted(lines))
            bits_id = self.bits.setdefault(numbits, len(self.bits) + 1)
            arcs = arcs_by_file.get(path) if arcs_by_file else None
            arcs_id = self.arcs.setdefault(pack_arcs(arcs), len(self.arcs) + 1) if arcs is not None else None
            self.hits.append((test_id, file_id, bits_id, arcs_id))

    def close(self) -> None:
        with sqlite3.connect(self.path) as db:
            db.executescript(SCHEMA)
            db.executemany("INSERT INTO file (id, path) VALUES (?, ?)", [(i, p) for p, i in self.files.items()])
            db.executemany("INSERT INTO bits (id, numbits) VALUES (?, ?)", [(i, b) for b, i in self.bits.items()])
            db.executemany("INSERT INTO arcs (id, pairs) VALUES (?, ?)", [(i, a) for a, i in self.arcs.items()])
            db.executemany("INSERT INTO test (id, nodeid, worker) VALUES (?, ?, ?)", self.tests)
            db.executemany("INSERT INTO hit (test_id, file_id, bits_id, arcs_id) VALUES (?, ?, ?, ?)", self.hits)
        db.close()


class MapRecorder:
    """Takes each test's lines and arcs from a process's `CoverageEngine` into that process's segment: what
    every runner does between two tests and at the end of one."""

    def __init__(self, engine: Any, root: str, worker: str | None) -> None:
        self.engine = engine
        self.root = os.path.realpath(root)
        self.worker = worker
        self.writer: MapWriter | None = None

    def between(self) -> None:
        """What ran since the last test (collection, class and session fixtures) belongs to no test."""
        self.engine.take()

    def test_done(self, test_id: str) -> None:
        taken = self.engine.take()
        if self.writer is None:
            self.writer = MapWriter(self.engine.data_dir / f"map.{self.worker or 'main'}.segment", self.worker)
        relative = {path: self.relative(path) for path in taken}
        self.writer.add(
            test_id,
            {relative[path]: found.lines for path, found in taken.items()},
            {relative[path]: found.arcs for path, found in taken.items()},
        )

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None

    def relative(self, path: str) -> str:
        real = os.path.realpath(path)
        return os.path.relpath(real, self.root).replace(os.sep, "/") if real.startswith(self.root) else real


def merge_segments(data_dir: Path, out: Path) -> int:
    """The run's map from every segment in a run's coverage data directory."""
    return merge(sorted(data_dir.glob("map.*.segment")), out)


def merge(segments: Iterable[Path], out: Path) -> int:
    """Merge segments into the run's map at `out`; returns the number of tests in it.

    The map is derived data: it is built without a journal or fsyncs in a temporary file beside `out`, then
    renamed into place, so a merge that stops half-way leaves no half map behind."""
    building = out.with_name(out.name + ".partial")
    building.unlink(missing_ok=True)
    with sqlite3.connect(building) as db:
        db.execute("PRAGMA journal_mode = OFF")
        db.execute("PRAGMA synchronous = OFF")
        db.executescript(SCHEMA)
        for segment in segments:
            db.execute("ATTACH DATABASE ? AS seg", (str(segment),))
            offset = db.execute("SELECT COALESCE(MAX(id), 0) FROM test").fetchone()[0]
            db.execute("INSERT OR IGNORE INTO file (path) SELECT path FROM seg.file")
            db.execute("INSERT OR IGNORE INTO bits (numbits) SELECT numbits FROM seg.bits")
            db.execute("INSERT OR IGNORE INTO arcs (pairs) SELECT pairs FROM seg.arcs")
            db.execute("INSERT INTO test (id, nodeid, worker) SELECT id + ?, nodeid, worker FROM seg.test", (offset,))
            db.execute(
                """INSERT INTO hit (test_id, file_id, bits_id, arcs_id)
                   SELECT h.test_id + ?, f2.id, b2.id, a2.id FROM seg.hit h
                   JOIN seg.file f ON f.id = h.file_id JOIN main.file f2 ON f2.path = f.path
                   JOIN seg.bits b ON b.id = h.bits_id JOIN main.bits b2 ON b2.numbits = b.numbits
                   LEFT JOIN seg.arcs a ON a.id = h.arcs_id LEFT JOIN main.arcs a2 ON a2.pairs = a.pairs""",
                (offset,),
            )
            db.commit()
            db.execute("DETACH DATABASE seg")
        count: int = db.execute("SELECT COUNT(*) FROM test").fetchone()[0]
    db.close()
    os.replace(building, out)
    return count


def lines_of(map_file: Path, nodeid: str) -> dict[str, list[int]]:
    """The lines each file had run by the test `nodeid` (every attempt of it), by path."""
    from coverage.numbits import numbits_to_nums

    return union_by_path(test_blobs(map_file, nodeid, "bits"), numbits_to_nums)


# The blob tables of a hit: (table, blob column, the hit's column). Constants, never user input, in the SQL.
BLOBS = {"bits": ("bits", "numbits", "bits_id"), "arcs": ("arcs", "pairs", "arcs_id")}


def test_blobs(map_file: Path, nodeid: str, kind: str) -> list[tuple[str, bytes]]:
    """(path, blob) of every hit of the test `nodeid`, for the blob `kind` (`bits` or `arcs`)."""
    table, column, key = BLOBS[kind]
    query = (
        f"SELECT f.path, x.{column} FROM hit h JOIN test t ON t.id = h.test_id "
        f"JOIN file f ON f.id = h.file_id JOIN {table} x ON x.id = h.{key} WHERE t.nodeid = ?"
    )
    with sqlite3.connect(map_file) as db:
        rows: list[tuple[str, bytes]] = db.execute(query, (nodeid,)).fetchall()
    db.close()
    return rows


def union_by_path(rows: Iterable[tuple[str, bytes]], decode: Any) -> dict[str, list[Any]]:
    """The decoded blobs of each path, united and sorted, paths in order."""
    found: dict[str, set[Any]] = {}
    for path, blob in rows:
        found.setdefault(path, set()).update(decode(blob))
    return {path: sorted(items) for path, items in sorted(found.items())}


def all_lines(map_file: Path) -> dict[str, dict[str, set[int]]]:
    """Every test's lines, by test id and path (the input of affected-test selection)."""
    from coverage.numbits import numbits_to_nums

    with sqlite3.connect(map_file) as db:
        bits = {bits_id: numbits_to_nums(numbits) for bits_id, numbits in db.execute("SELECT id, numbits FROM bits")}
        rows = db.execute(
            "SELECT t.nodeid, f.path, h.bits_id FROM hit h "
            "JOIN test t ON t.id = h.test_id JOIN file f ON f.id = h.file_id"
        ).fetchall()
        tests = [nodeid for (nodeid,) in db.execute("SELECT DISTINCT nodeid FROM test")]
    db.close()
    found: dict[str, dict[str, set[int]]] = {nodeid: {} for nodeid in tests}
    for nodeid, path, bits_id in rows:
        found[nodeid].setdefault(path, set()).update(bits[bits_id])
    return found


def latest_map(directory: Path) -> Path | None:
    """The newest run's map in a telemetry directory (run ids sort by time)."""
    maps = sorted(directory.glob("*.testmap"))
    return maps[-1] if maps else None


def pack_arcs(arcs: Iterable[tuple[int, int]]) -> bytes:
    """Arcs as a sorted array of 32-bit (from, to) pairs: equal sets give equal bytes, so they dedup."""
    flat = array("i")
    for first, second in sorted(arcs):
        flat.extend((first, second))
    return flat.tobytes()


def unpack_arcs(data: bytes) -> list[tuple[int, int]]:
    flat = array("i")
    flat.frombytes(data)
    return list(zip(flat[::2], flat[1::2], strict=True))


def arcs_of(map_file: Path, nodeid: str) -> dict[str, list[tuple[int, int]]]:
    """The arcs each file had run by the test `nodeid`, by path (files without arcs left out)."""
    return union_by_path(test_blobs(map_file, nodeid, "arcs"), unpack_arcs)


def is_map(path: Path) -> bool:
    """A map or a segment of ours (an SQLite file with a `hit` table), not a coverage.py data file."""
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            names = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        db.close()
    except sqlite3.Error:
        return False
    return "hit" in names and "bits" in names


def from_coverage_data(data_file: Path, segment: Path, root: Path) -> int:
    """A coverage.py data file recorded with per-test contexts (pytest-cov's `--cov-context=test`, or
    `dynamic_context = test_function`) as a segment of ours; returns the number of contexts read. A context
    `nodeid|run` counts for the test `nodeid` (its setup, run and teardown together)."""
    import re

    from coverage import CoverageData

    data = CoverageData(str(data_file))
    data.read()
    writer = MapWriter(segment, None)
    contexts = sorted(c for c in data.measured_contexts() if c)
    files = sorted(data.measured_files())
    branch = data.has_arcs()
    for context in contexts:
        data.set_query_contexts([f"^{re.escape(context)}$"])
        lines = {relative_to(path, root): set(data.lines(path) or ()) for path in files}
        arcs = {relative_to(path, root): set(data.arcs(path) or ()) for path in files} if branch else None
        writer.add(
            context.split("|", 1)[0],
            {path: found for path, found in lines.items() if found},
            {path: found for path, found in arcs.items() if found} if arcs is not None else None,
        )
    writer.close()
    return len(contexts)


def export_coverage(map_file: Path, out: Path, root: Path) -> int:
    """Every line of the map, or every arc when all of it has arcs, as a standard coverage.py data file
    (absolute paths), for `coverage html` and `coverage xml`; returns the number of files."""
    from coverage import CoverageData
    from coverage.numbits import numbits_to_nums

    lines: dict[str, set[int]] = {}
    arcs: dict[str, set[tuple[int, int]]] = {}
    with sqlite3.connect(map_file) as db:
        rows = db.execute(
            "SELECT f.path, b.numbits, a.pairs FROM hit h JOIN file f ON f.id = h.file_id "
            "JOIN bits b ON b.id = h.bits_id LEFT JOIN arcs a ON a.id = h.arcs_id"
        ).fetchall()
    db.close()
    every_arc = all(pairs is not None for _, _, pairs in rows)
    for path, numbits, pairs in rows:
        absolute = str((root / path).resolve())
        lines.setdefault(absolute, set()).update(numbits_to_nums(numbits))
        if every_arc:
            arcs.setdefault(absolute, set()).update(unpack_arcs(pairs))
    data = CoverageData(str(out))
    if every_arc and arcs:
        data.add_arcs(arcs)
    else:
        data.add_lines(lines)
    data.write()
    return len(lines)


def relative_to(path: str, root: Path) -> str:
    """`path` relative to `root`, `/`-separated, when it is inside it; else as it is."""
    try:
        return Path(path).resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path
