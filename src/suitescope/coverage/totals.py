"""A run's coverage totals, as `coverage report` computes them, for the run record.

They come from coverage.py's own summary reporter (what `coverage report` runs) and its `Numbers`, so they are
the figures `coverage report` prints for the same data and configuration, by construction rather than by a
second implementation of its rules (exclusions, partial branches, `omit`, `include`). Should that reporter move
in a later coverage.py, its JSON report's `totals` give the same figures, more slowly (it also analyses every
function and class: 3.4 s against a fraction of it for 200 modules).
"""

from __future__ import annotations

import io
import json
import tempfile
import warnings
from pathlib import Path
from typing import Any

from suitescope.schema.records import Coverage


def coverage_totals(cov: Any, source: str) -> Coverage | None:
    """Totals of a `coverage.Coverage` holding the run's (combined) data; None when it measured nothing."""
    from coverage.exceptions import NoDataError

    try:
        from coverage.report import SummaryReporter
    except ImportError:
        return json_totals(cov, source)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reporter = SummaryReporter(cov)
        try:
            reporter.report(None, outfile=io.StringIO())
        except NoDataError:
            return None
    numbers = getattr(reporter, "total", None)
    if numbers is None:
        return json_totals(cov, source)
    branch = bool(cov.get_data().has_arcs())
    totals = {
        "num_statements": numbers.n_statements,
        "covered_lines": numbers.n_executed,
        "percent_covered": numbers.pc_covered,
        "num_branches": numbers.n_branches,
        "covered_branches": numbers.n_executed_branches,
    }
    return from_report_totals(totals, branch, source)


def json_totals(cov: Any, source: str) -> Coverage | None:
    """The same totals from coverage.py's JSON report (public API; slower)."""
    from coverage.exceptions import NoDataError

    with tempfile.TemporaryDirectory(prefix="suitescope-cov-") as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # coverage.py's warnings are its report's business, not the suite's
        out = Path(tmp) / "coverage.json"
        try:
            cov.json_report(outfile=str(out), pretty_print=False)
        except NoDataError:
            return None
        report = json.loads(out.read_text(encoding="utf-8"))
    return from_report_totals(report["totals"], bool(report.get("meta", {}).get("branch_coverage")), source)


def from_report_totals(totals: dict[str, Any], branch: bool, source: str) -> Coverage:
    """The run record's `coverage` from the `totals` of coverage.py's JSON report."""
    statements, covered = int(totals["num_statements"]), int(totals["covered_lines"])
    branches = int(totals.get("num_branches", 0)) if branch else None
    covered_branches = int(totals.get("covered_branches", 0)) if branch else None
    return {
        "percent": round(float(totals["percent_covered"]), 2),
        "lines_pct": percent(covered, statements),
        "branches_pct": percent(covered_branches, branches),
        "covered": covered,
        "total": statements,
        "branches_covered": covered_branches,
        "branches_total": branches,
        "paths": None,
        "source": source,
    }


def percent(covered: int | None, total: int | None) -> float | None:
    """As coverage.py counts it: nothing to cover is fully covered; None when not measured."""
    if covered is None or total is None:
        return None
    return round(100.0 * covered / total, 2) if total else 100.0
