"""Flaky and broken tests, each finding with the runs, commits and attempts it rests on.

- **Flaky**: the test both passed and failed on one commit (in two runs, or across the retries of one run), or
  its outcome flips on a branch more often than `flip_threshold` of its recent runs. The rate is the share
  of its runs that failed or needed a retry, with a Wilson interval (95%): three failures in five runs and
  three in five hundred are not the same claim. A test that has passed `fixed_after` times in a row since its
  last failure is fixed: its rate starts again.
- **Broken**: on a branch, the test has failed in each of its last `broken_after` runs or more; the finding
  names the first failing commit and the last passing one.
- **Infrastructure**: failures that the run explains (a collection error, a crashed worker, an interrupted
  run) are counted apart and never make a test flaky or broken.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from suitescope.analysis.history import Outcome


@dataclass(frozen=True)
class Evidence:
    run_id: str
    commit: str | None
    branch: str | None
    started: str
    status: str
    attempt: int


@dataclass
class FlakyTest:
    test: str
    runs: int  # runs counted since the test was last fixed
    flaky_runs: int  # of those: failed, or passed only after a retry
    rate: float
    low: float  # Wilson interval, 95%
    high: float
    reasons: list[str]  # "passed and failed on abc123", "retry passed in run ...", "flips on main: 4 of 9"
    evidence: list[Evidence] = field(default_factory=list)
    order_dependent: bool = False  # fails with some test orders (pytest-randomly seeds), not with others
    reproduce: str | None = None  # the command that runs it in a failing order


@dataclass
class BrokenTest:
    test: str
    branch: str | None
    failing_runs: int
    first_failing_commit: str | None
    last_passing_commit: str | None
    fingerprint: str | None
    evidence: list[Evidence] = field(default_factory=list)


@dataclass
class Findings:
    flaky: list[FlakyTest]
    broken: list[BrokenTest]
    infra_failures: int  # failures set aside: the run, not the test, broke
    infra_runs: list[str]


def wilson(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval of a proportion: honest for small n, never outside 0..1."""
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    margin = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - margin), min(1.0, centre + margin)


@dataclass
class _RunOfTest:
    """One test in one run: its attempts, in order."""

    attempts: list[Outcome]

    @property
    def final(self) -> Outcome:
        return next((a for a in reversed(self.attempts) if a.final), self.attempts[-1])

    @property
    def retried_to_pass(self) -> bool:
        return self.final.status == "passed" and any(a.failed for a in self.attempts)

    @property
    def failed(self) -> bool:
        return self.final.failed


def evidence(outcome: Outcome) -> Evidence:
    r = outcome.run
    return Evidence(r.run_id, r.commit, r.branch, r.started, outcome.status, outcome.attempt)


def analyse(
    outcomes: Iterable[Outcome],
    *,
    flip_threshold: float = 0.2,
    fixed_after: int = 10,
    broken_after: int = 3,
    window: int = 50,
) -> Findings:
    by_test: dict[str, list[_RunOfTest]] = defaultdict(list)
    current: dict[tuple[str, str], _RunOfTest] = {}
    infra: list[Outcome] = []
    for outcome in outcomes:
        if outcome.infra:
            infra.append(outcome)
            continue
        key = (outcome.test, outcome.run.run_id)
        if key not in current:
            current[key] = _RunOfTest([])
            by_test[outcome.test].append(current[key])
        current[key].attempts.append(outcome)
    flaky: list[FlakyTest] = []
    broken: list[BrokenTest] = []
    for test, runs in by_test.items():
        runs = runs[-window:]
        found_broken = _broken(test, runs, broken_after)
        broken.extend(found_broken)
        broken_branches = {b.branch for b in found_broken}
        finding = _flaky(
            test, [r for r in runs if r.final.run.branch not in broken_branches], flip_threshold, fixed_after
        )
        if finding is not None:
            flaky.append(finding)
    flaky.sort(key=lambda f: (-f.low, -f.rate, f.test))
    broken.sort(key=lambda b: (-b.failing_runs, b.test))
    return Findings(flaky, broken, len(infra), sorted({o.run.run_id for o in infra}))


def _since_fixed(runs: list[_RunOfTest], fixed_after: int) -> list[_RunOfTest]:
    """The runs after the last streak of `fixed_after` clean passes that came after a failure."""
    streak, start = 0, 0
    for index, run in enumerate(runs):
        clean = not run.failed and not run.retried_to_pass
        streak = streak + 1 if clean else 0
        if streak >= fixed_after and any(r.failed or r.retried_to_pass for r in runs[start:index]):
            start = index + 1
            streak = 0
    return runs[start:]


def _flaky(test: str, runs: list[_RunOfTest], flip_threshold: float, fixed_after: int) -> FlakyTest | None:
    runs = _since_fixed(runs, fixed_after)
    reasons: list[str] = []
    cited: list[Outcome] = []
    by_commit: dict[str, list[_RunOfTest]] = defaultdict(list)
    for run in runs:
        if run.retried_to_pass:
            reasons.append(f"failed, then passed on retry in run {run.final.run.run_id}")
            cited.extend(run.attempts)
        if run.final.run.commit and not run.final.run.dirty:  # a dirty tree ran other code than its commit
            by_commit[run.final.run.commit].append(run)
    for commit, same in by_commit.items():
        if any(r.failed for r in same) and any(not r.failed for r in same):
            reasons.append(f"passed and failed on commit {commit[:12]}")
            cited.extend(r.final for r in same)
    by_branch: dict[str | None, list[_RunOfTest]] = defaultdict(list)
    for run in runs:
        by_branch[run.final.run.branch].append(run)
    for branch, seq in by_branch.items():
        flips = sum(1 for a, b in itertools.pairwise(seq) if a.failed != b.failed)
        if len(seq) >= 4 and flips >= 2 and flips / (len(seq) - 1) > flip_threshold:
            reasons.append(f"flips on {branch or '(no branch)'}: {flips} times in {len(seq)} runs")
            cited.extend(r.final for r in seq)
    if not reasons:
        return None
    bad = sum(1 for r in runs if r.failed or r.retried_to_pass)
    low, high = wilson(bad, len(runs))
    unique = list({(o.run.run_id, o.attempt): evidence(o) for o in cited}.values())
    finding = FlakyTest(test, len(runs), bad, bad / len(runs), low, high, reasons, unique)
    seed = _order_seed(by_commit)
    if seed is not None:
        finding.order_dependent = True
        finding.reproduce = f"pytest -p randomly --randomly-seed={seed}"
        finding.reasons.append(f"fails with test order {seed} (pytest-randomly), passes with others: order-dependent")
    return finding


def _order_seed(by_commit: dict[str, list[_RunOfTest]]) -> int | None:
    """A seed whose order made the test fail on a commit where other orders passed, when no seed both failed
    and passed: the order, not the code, decides. The failing seed that failed most often, else None."""
    failing: dict[int, int] = defaultdict(int)
    passing: set[int] = set()
    for same in by_commit.values():
        seeds = [r.final.run.seed for r in same]
        if None in seeds or not any(r.failed for r in same) or all(r.failed for r in same):
            continue
        for run in same:
            if run.failed:
                failing[run.final.run.seed or 0] += 1
            else:
                passing.add(run.final.run.seed or 0)
    if not failing or set(failing) & passing:
        return None
    return max(failing, key=lambda seed: (failing[seed], -seed))


def _broken(test: str, runs: list[_RunOfTest], broken_after: int) -> list[BrokenTest]:
    by_branch: dict[str | None, list[_RunOfTest]] = defaultdict(list)
    for run in runs:
        by_branch[run.final.run.branch].append(run)
    found = []
    for branch, seq in by_branch.items():
        streak = 0
        for run in reversed(seq):
            if not run.failed:
                break
            streak += 1
        if streak < broken_after:
            continue
        failing = seq[len(seq) - streak :]
        last_pass = seq[len(seq) - streak - 1] if streak < len(seq) else None
        found.append(
            BrokenTest(
                test,
                branch,
                streak,
                failing[0].final.run.commit,
                last_pass.final.run.commit if last_pass else None,
                failing[-1].final.fingerprint,
                [evidence(r.final) for r in failing],
            )
        )
    return found
