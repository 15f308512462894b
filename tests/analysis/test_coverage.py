"""Coverage over runs is compared within a branch: a run on `main` is measured against main's previous run."""

from __future__ import annotations

from typing import Any

from suitescope.analysis.coverage import coverage_trend


def run(run_id: str, branch: str | None, percent: float | None, ci_branch: str | None = None) -> Any:
    coverage = None if percent is None else {"percent": percent, "lines_pct": percent, "branches_pct": None}
    git = {"commit": "c" * 40, "branch": branch, "dirty": False}
    ci = {"provider": "github-actions", "branch": ci_branch} if ci_branch else None
    return {"run_id": run_id, "coverage": coverage, "environment": {"git": git, "ci": ci}}


def test_changes_are_per_branch_and_skip_runs_without_coverage() -> None:
    runs = [
        run("r1", "main", 80.0),
        run("r2", "feature", 70.0),
        run("r3", "main", None),  # measured nothing: neither a point nor a baseline
        run("r4", "main", 78.5),
        run("r5", None, 90.0, ci_branch="feature"),  # a detached checkout on CI: the CI's branch counts
    ]
    points = [(p.run_id, p.branch, p.previous_run_id, p.change) for p in coverage_trend(runs)]
    assert points == [
        ("r1", "main", None, None),
        ("r2", "feature", None, None),
        ("r4", "main", "r1", -1.5),
        ("r5", "feature", "r2", 20.0),
    ]
