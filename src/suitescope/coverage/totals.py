"""A run's coverage totals, as `coverage report` computes them, for the run record.

They come from coverage.py's own JSON report of the data (its `totals` object), so they are the figures
`coverage report` prints for the same data and configuration, by construction rather than by a second
implementation of its rules (exclusions, partial branches, `omit`, `include`).
"""

from __future__ import annotations

import json
import tempfile
import warnings
from pathlib import Path
from typing import Any

from suitescope.schema.records import Coverage


def coverage_totals(cov: Any, source: str) -> Coverage | None:
    """Totals of a `coverage.Coverage` holding the run's (combined) data; None when it measured nothing."""
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
