"""Regressions: a test that got slower and stayed slower, that runs more queries than it did, or that reaches
a host it never reached before; each since a run and a commit, with the runs as evidence.

Durations are noisy, so a duration regression needs all of: CI runs only (a laptop is not a baseline), one
branch and one environment (Python version and OS), a baseline of at least `min_baseline` earlier runs (their
median and MAD, robust to the odd outlier), and the last `sustained` runs all above the baseline by more than
`z` robust deviations, `min_ratio` of the median and `min_ms`. One slow run is never a regression.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from suitescope.analysis.history import Outcome

MAD_TO_SIGMA = 1.4826  # the MAD of a normal distribution times this is its standard deviation


@dataclass(frozen=True)
class DurationRegression:
    test: str
    branch: str | None
    environment: str
    baseline_ms: float  # median of the baseline runs
    recent_ms: float  # median of the sustained runs
    since_run: str
    since_commit: str | None
    runs: tuple[str, ...]  # the sustained runs

    @property
    def ratio(self) -> float:
        return self.recent_ms / self.baseline_ms if self.baseline_ms else float("inf")


@dataclass(frozen=True)
class QueryRegression:
    test: str
    branch: str | None
    before: int  # median of the earlier runs
    now: int
    since_run: str
    since_commit: str | None


@dataclass(frozen=True)
class NewHost:
    test: str
    branch: str | None
    host: str
    since_run: str
    since_commit: str | None


def duration_regressions(
    outcomes: Iterable[Outcome],
    *,
    baseline: int = 20,
    min_baseline: int = 5,
    sustained: int = 3,
    z: float = 3.0,
    min_ratio: float = 1.2,
    min_ms: float = 5.0,
) -> list[DurationRegression]:
    series: dict[tuple[str, str | None, str], list[Outcome]] = defaultdict(list)
    for o in outcomes:
        if o.final and o.status == "passed" and o.run.ci and not o.infra:
            series[(o.test, o.run.branch, o.run.environment)].append(o)
    found = []
    for (test, branch, environment), points in series.items():
        recent, before = points[-sustained:], points[-sustained - baseline : -sustained]
        if len(recent) < sustained or len(before) < min_baseline:
            continue
        durations = [p.duration_ms for p in before]
        median = statistics.median(durations)
        mad = statistics.median(abs(d - median) for d in durations)
        threshold = max(median + z * MAD_TO_SIGMA * mad, median * min_ratio, median + min_ms)
        if all(p.duration_ms > threshold for p in recent):
            start = len(points) - sustained  # back to where the slowdown began: its first slow run
            while start > 0 and points[start - 1].duration_ms > threshold:
                start -= 1
            recent = points[start:]
            found.append(
                DurationRegression(
                    test,
                    branch,
                    environment,
                    median,
                    statistics.median(p.duration_ms for p in recent),
                    recent[0].run.run_id,
                    recent[0].run.commit,
                    tuple(p.run.run_id for p in recent),
                )
            )
    return sorted(found, key=lambda r: -r.ratio)


def query_regressions(
    outcomes: Iterable[Outcome], *, lookback: int = 5, min_growth: int = 5, min_ratio: float = 1.2
) -> list[QueryRegression]:
    """Tests whose latest run on a branch ran clearly more queries than the median of the runs before."""
    series: dict[tuple[str, str | None], list[Outcome]] = defaultdict(list)
    for o in outcomes:
        if o.final and o.queries is not None and not o.infra:
            series[(o.test, o.run.branch)].append(o)
    found = []
    for (test, branch), points in series.items():
        if len(points) < 2:
            continue
        latest = points[-1]
        before = int(statistics.median(p.queries or 0 for p in points[-lookback - 1 : -1]))
        now = latest.queries or 0
        if now - before >= min_growth and now >= before * min_ratio:
            found.append(QueryRegression(test, branch, before, now, latest.run.run_id, latest.run.commit))
    return sorted(found, key=lambda r: r.before - r.now)


def new_hosts(outcomes: Iterable[Outcome]) -> list[NewHost]:
    """External hosts a test reached in its latest run on a branch and in none of its earlier ones there."""
    history: dict[tuple[str, str | None], list[Outcome]] = defaultdict(list)
    for o in outcomes:
        if o.final:
            history[(o.test, o.run.branch)].append(o)
    found = []
    for (test, branch), points in history.items():
        if len(points) < 2:  # a test seen once has no "before"
            continue
        before = set().union(*(p.external_hosts for p in points[:-1]))
        latest = points[-1]
        for host in sorted(set(latest.external_hosts) - before):
            found.append(NewHost(test, branch, host, latest.run.run_id, latest.run.commit))
    return found
