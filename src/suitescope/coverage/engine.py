"""`--suitescope-cov SOURCE`: our own coverage.py measurement, with branches, in every process of a run.

Each process (the main one, each xdist worker) runs one `coverage.Coverage` that saves its data, with a suffix
of its own, into a directory of the run; the process that writes the run combines them (coverage.py's own
`combine`), keeps the result as `<run_id>.coverage` next to the run file, so that `coverage report`, `coverage
html` and `coverage xml` work on it, and takes the totals from it. The user's coverage configuration
(`.coveragerc`, `[tool.coverage]` of `pyproject.toml`) applies, so `omit` and exclusions count as they would in
`coverage report`; branch measurement is always on.
"""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path
from typing import Any, NamedTuple

from suitescope.coverage.totals import coverage_totals
from suitescope.schema.records import Coverage


class CoverageEngine:
    """The measurement of one process; `data_dir` is shared by every process of the run."""

    def __init__(self, sources: list[str], data_dir: Path, suffix: str) -> None:
        import coverage

        self.sources = sources
        self.data_dir = data_dir
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.cov: Any = coverage.Coverage(
                data_file=str(data_dir / ".coverage"),
                data_suffix=suffix,
                source=sources,
                branch=True,
                config_file=True,
            )
        self.running = False
        self.kept: dict[str, set[int]] = {}  # what `take` took from the tracer's sets, given back before saving

    def take(self) -> dict[str, Taken]:
        """The lines (and arcs, when branches are measured) run since the last take, by file (absolute path),
        for the per-test map.

        coverage.py's collector keeps, per file, a set of the lines (or arcs, packed into ints by the C tracer
        when branches are measured) seen since its last flush; these sets are emptied in place, as coverage.py
        itself does when it switches contexts, and their union is kept to be given back before the data is
        saved, so the run's totals are unchanged. Reading them is a dictionary walk, where a coverage.py
        context switch per test writes to SQLite each time (measured 70 us against 0.55 ms per switch).
        """
        collector = getattr(self.cov, "_collector", None)
        data = getattr(collector, "data", None)
        if not isinstance(data, dict):
            # Another coverage.py keeps its data elsewhere: fail (the guard turns the map off with one line)
            # rather than record tests that ran nothing, which affected-test selection would trust.
            raise RuntimeError(f"coverage.py {coverage_version()}'s collector data is not where suitescope reads it")
        packed = bool(getattr(getattr(collector, "core", None), "packed_arcs", False))
        branch = bool(getattr(collector, "branch", False))
        taken: dict[str, Taken] = {}
        for filename, items in list(data.items()):
            if not items:
                continue
            snapshot = items.copy()
            items.clear()
            self.kept.setdefault(filename, set()).update(snapshot)
            taken[filename] = decode(snapshot, packed, branch)
        return taken

    def give_back(self) -> None:
        """Put what `take` took back into the collector's sets, so that saving writes all of it."""
        collector = getattr(self.cov, "_collector", None)
        data = getattr(collector, "data", None)
        if data is None:
            return
        for filename, items in self.kept.items():
            data.setdefault(filename, set()).update(items)
        self.kept = {}

    def start(self) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.cov.start()
        self.running = True

    def stop(self) -> None:
        """Stop measuring and save this process's data (once; later calls do nothing)."""
        if not self.running:
            return
        self.running = False
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. "No data was collected": the totals say so without a warning
            self.cov.stop()
            self.give_back()
            self.cov.save()

    def combine(self, out_file: Path) -> Coverage | None:
        """Every process's data as one coverage.py data file at `out_file`, and its totals."""
        import coverage

        self.stop()
        combined_file = self.data_dir / ".coverage"  # combine() reads the files named like its own, plus a suffix
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            combined = coverage.Coverage(
                data_file=str(combined_file), source=self.sources, branch=True, config_file=True
            )
            combined.combine([str(self.data_dir)], keep=False)
            combined.save()
        totals = coverage_totals(combined, "suitescope")
        if combined_file.exists():
            out_file.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(combined_file), out_file)
        shutil.rmtree(self.data_dir, ignore_errors=True)
        return totals


class Taken(NamedTuple):
    """What one file had run: its lines, and its arcs `(from, to)` when branches are measured (else None)."""

    lines: set[int]
    arcs: set[tuple[int, int]] | None


def decode(items: set[Any], packed: bool, branch: bool) -> Taken:
    """A collector set as lines and arcs: line numbers, arcs `(from, to)`, or arcs packed into ints by the C
    tracer (its `CTracer_record_pair` layout, unpacked as coverage.py's own `flush_data` does). Negative line
    numbers in an arc stand for entering or leaving a code object; lines are the positive ones."""
    if not branch:
        return Taken({n for n in items if n > 0}, None)
    arcs: set[tuple[int, int]] = set()
    for item in items:
        if isinstance(item, tuple):
            arcs.add(item)
        elif packed:
            first, second = item & 0xFFFFFFF, (item >> 28) & 0xFFFFFFF
            arcs.add((-first if item & (1 << 56) else first, -second if item & (1 << 57) else second))
    lines = {n for arc in arcs for n in arc if n > 0}
    return Taken(lines, arcs)


def coverage_version() -> str:
    import coverage

    return str(coverage.__version__)
