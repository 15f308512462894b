"""Coverage over runs: each run's totals, and how they moved since the previous run of the same branch."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from suitescope.schema.records import RunRecord


@dataclass
class CoveragePoint:
    run_id: str
    branch: str | None
    percent: float
    lines_pct: float | None
    branches_pct: float | None
    previous_run_id: str | None  # the previous run of the same branch that measured coverage
    change: float | None  # percentage points since that run; None for a branch's first


def run_branch(run: RunRecord) -> str | None:
    """The branch a run was on: git's, which the CI's own name has already replaced when git was detached."""
    git = run["environment"]["git"]
    ci = run["environment"]["ci"]
    return (git and git["branch"]) or (ci and ci["branch"]) or None


def coverage_trend(runs: Iterable[RunRecord]) -> list[CoveragePoint]:
    """The runs that measured coverage, in the order given (oldest first), each against its branch's previous."""
    last: dict[str | None, tuple[str, float]] = {}
    points = []
    for run in runs:
        coverage = run.get("coverage")
        if not coverage:
            continue
        branch = run_branch(run)
        previous = last.get(branch)
        percent = coverage["percent"]
        points.append(
            CoveragePoint(
                run["run_id"],
                branch,
                percent,
                coverage.get("lines_pct"),
                coverage.get("branches_pct"),
                previous[0] if previous else None,
                round(percent - previous[1], 2) if previous else None,
            )
        )
        last[branch] = (run["run_id"], percent)
    return points
