"""Lost tests: tests the previous runs of a branch had and its latest run does not, with the likeliest why;
and runs that executed fewer tests than they collected.

A test can vanish because a file failed to import (a collection error names the file), because the run or
one of its workers died, because it was renamed (a new test of the same file with a close name appeared), or
because it was deleted or deselected. Only the first three are news; all are listed, each with its reason.
"""

from __future__ import annotations

import difflib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from suitescope.analysis.history import Outcome, RunInfo


@dataclass(frozen=True)
class LostTest:
    test: str
    branch: str | None
    run_id: str  # the run it is missing from
    last_seen_run: str
    reason: str


@dataclass(frozen=True)
class Gap:
    run_id: str
    expected: int
    executed: int

    @property
    def missing(self) -> int:
        return self.expected - self.executed


def lost_tests(outcomes: Iterable[Outcome], lookback: int = 5) -> list[LostTest]:
    """For each branch, what the latest run lacks of its previous `lookback` runs."""
    runs: dict[str | None, dict[str, RunInfo]] = defaultdict(dict)  # branch -> run id -> info, in run order
    seen: dict[str, list[Outcome]] = defaultdict(list)  # run id -> its outcomes
    for outcome in outcomes:
        runs[outcome.run.branch].setdefault(outcome.run.run_id, outcome.run)
        seen[outcome.run.run_id].append(outcome)
    found: list[LostTest] = []
    for branch, by_id in runs.items():
        order = list(by_id.values())
        if len(order) < 2:
            continue
        latest = order[-1]
        now = {o.test for o in seen[latest.run_id] if o.phase != "collect"}
        broken_files = {o.file or o.test for o in seen[latest.run_id] if o.phase == "collect"}
        new = now - {o.test for run in order[:-1] for o in seen[run.run_id]}
        last_seen: dict[str, tuple[str, str | None]] = {}
        for run in order[-lookback - 1 : -1]:
            for o in seen[run.run_id]:
                if o.final and o.phase != "collect":
                    last_seen[o.test] = (run.run_id, o.file)
        for test, (run_id, file) in sorted(last_seen.items()):
            if test not in now:
                found.append(LostTest(test, branch, latest.run_id, run_id, _why(test, file, latest, broken_files, new)))
    return found


def _why(test: str, file: str | None, latest: RunInfo, broken_files: set[str], new: set[str]) -> str:
    if file and any(file == broken or broken.endswith(file) or file.endswith(broken) for broken in broken_files):
        return f"collection error in {file}"
    if latest.state in ("crashed", "interrupted", "running"):
        return f"the run was {latest.state}"
    if latest.lost_workers:
        return f"{latest.lost_workers} worker(s) lost"
    same_file = [t for t in new if file and t.startswith(file)]
    close = difflib.get_close_matches(test, same_file, n=1, cutoff=0.8)
    if close:
        return f"renamed to {close[0]}?"
    return "no longer collected: deleted, renamed or deselected"


def gaps(runs: Iterable[tuple[str, int | None, int]]) -> list[Gap]:
    """Runs (run id, expected, executed) that executed fewer tests than they collected."""
    return [Gap(run_id, expected, executed) for run_id, expected, executed in runs if expected and executed < expected]
