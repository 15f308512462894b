"""Flaky, broken and lost tests on synthetic histories, with the traps that make other tools cry wolf."""

from __future__ import annotations

from suitescope.analysis.flaky import analyse, wilson
from suitescope.analysis.history import Outcome, RunInfo
from suitescope.analysis.lost import gaps, lost_tests


def run(
    number: int, commit: str | None = None, branch: str = "main", state: str = "completed", **kw: object
) -> RunInfo:
    return RunInfo(
        f"run{number:03d}",
        f"2026-11-{1 + number // 24:02d}T{number % 24:02d}:00:00Z",
        commit or f"c{number}",
        branch,
        True,
        state,
        **kw,
    )  # type: ignore[arg-type]


def outcome(
    r: RunInfo,
    status: str,
    test: str = "t.py::test_x",
    attempt: int = 1,
    final: bool = True,
    phase: str | None = None,
    fingerprint: str | None = None,
) -> Outcome:
    failing = status in ("failed", "error")
    return Outcome(
        test,
        test.split("::")[0],
        r,
        status,
        phase or ("call" if failing else None),
        attempt,
        final,
        fingerprint or ("fp" if failing else None),
        1.0,
    )


def history(statuses: str, **kw: object) -> list[Outcome]:
    """P/F per run, in order, each run on its own commit."""
    return [outcome(run(i, **kw), "passed" if s == "P" else "failed") for i, s in enumerate(statuses)]  # type: ignore[arg-type]


def test_wilson_interval_known_values() -> None:
    low, high = wilson(5, 10)
    assert round(low, 4) == 0.2366 and round(high, 4) == 0.7634
    assert wilson(0, 10)[0] == 0.0 and round(wilson(0, 10)[1], 4) == 0.2775
    assert wilson(0, 0) == (0.0, 1.0)


def test_passed_and_failed_on_one_commit_is_flaky_with_the_runs_as_evidence() -> None:
    found = analyse(
        [outcome(run(1, "abc"), "passed"), outcome(run(2, "abc"), "failed"), outcome(run(3, "def"), "passed")]
    )
    (flaky,) = found.flaky
    assert "passed and failed on commit abc" in flaky.reasons[0]
    assert {e.run_id for e in flaky.evidence} == {"run001", "run002"}
    assert (flaky.runs, flaky.flaky_runs) == (3, 1) and flaky.low < flaky.rate < flaky.high
    assert found.broken == []


def test_a_retry_that_passed_is_flaky_but_a_plain_pass_is_not() -> None:
    r = run(1)
    found = analyse(
        [outcome(r, "failed", attempt=1, final=False), outcome(r, "passed", attempt=2), outcome(run(2), "passed")]
    )
    (flaky,) = found.flaky
    assert "passed on retry in run run001" in flaky.reasons[0]
    assert [(e.attempt, e.status) for e in flaky.evidence] == [(1, "failed"), (2, "passed")]
    assert analyse(history("PPPPPP")).flaky == []


def test_flipping_on_a_branch_is_flaky() -> None:
    (flaky,) = analyse(history("PFPFPFPP")).flaky
    assert flaky.reasons == ["flips on main: 6 times in 8 runs"]


def test_failing_since_a_commit_is_broken_not_flaky() -> None:
    found = analyse(history("PPPFFFF"))
    assert found.flaky == []
    (broken,) = found.broken
    assert (broken.failing_runs, broken.first_failing_commit, broken.last_passing_commit) == (4, "c3", "c2")
    assert [e.run_id for e in broken.evidence] == ["run003", "run004", "run005", "run006"]


def test_two_failures_in_a_row_are_not_yet_broken() -> None:
    assert analyse(history("PPPFF")).broken == []


def test_a_fixed_test_starts_again_after_enough_passes() -> None:
    assert analyse(history("PFPFPF" + "P" * 10)).flaky == []
    (flaky,) = analyse(history("PFPFPF" + "P" * 9 + "F")).flaky  # not yet fixed: the old flips still count
    assert flaky.flaky_runs == 4


def test_infrastructure_failures_are_kept_apart() -> None:
    crashed = run(2, state="crashed")
    lost_worker = run(4, lost_workers=1)
    outcomes = [
        outcome(run(1), "passed"),
        outcome(crashed, "failed"),
        outcome(run(3), "passed"),
        outcome(lost_worker, "error", phase="crash"),
        outcome(run(5), "error", test="t.py", phase="collect"),
        outcome(run(6), "passed"),
    ]
    found = analyse(outcomes)
    assert found.flaky == [] and found.broken == []
    assert found.infra_failures == 3 and found.infra_runs == ["run002", "run004", "run005"]


def test_a_dirty_local_run_on_a_ci_commit_is_no_evidence() -> None:
    local = RunInfo("run002", "2026-11-01T02:00:00Z", "abc", "main", False, "completed", dirty=True)
    found = analyse([outcome(run(1, "abc"), "passed"), outcome(local, "failed"), outcome(run(3, "def"), "passed")])
    assert found.flaky == []


def test_branches_are_apart() -> None:
    outcomes = history("PPPP", branch="main") + [
        outcome(run(10 + i, branch="feature"), s) for i, s in enumerate(["failed"] * 3)
    ]
    found = analyse(outcomes)
    (broken,) = found.broken
    assert broken.branch == "feature" and found.flaky == []


def test_lost_tests_and_why() -> None:
    def runs_with(number: int, tests: list[str], **kw: object) -> list[Outcome]:
        r = run(number, **kw)  # type: ignore[arg-type]
        return [outcome(r, "passed", test=t) for t in tests]

    before = ["a.py::test_one", "a.py::test_two", "b.py::test_three", "c.py::test_login_works", "d.py::test_gone"]
    outcomes = runs_with(1, before) + runs_with(2, before)
    latest = run(3)
    outcomes += [
        outcome(latest, "passed", test="a.py::test_one"),
        outcome(latest, "passed", test="a.py::test_two"),
        outcome(latest, "error", test="b.py", phase="collect"),
        outcome(latest, "passed", test="c.py::test_login_worked"),
    ]
    lost = {item.test: item.reason for item in lost_tests(outcomes)}
    assert lost == {
        "b.py::test_three": "collection error in b.py",
        "c.py::test_login_works": "renamed to c.py::test_login_worked?",
        "d.py::test_gone": "no longer collected: deleted, renamed or deselected",
    }
    crashed = runs_with(1, before) + runs_with(2, before[:2], state="crashed")
    assert {item.reason for item in lost_tests(crashed)} == {"the run was crashed"}


def test_expected_and_executed_gaps() -> None:
    found = gaps([("r1", 10, 10), ("r2", 10, 7), ("r3", None, 4)])
    assert [(g.run_id, g.missing) for g in found] == [("r2", 3)]


def seeded(number: int, seed: int | None, status: str, commit: str = "abc") -> Outcome:
    return outcome(
        RunInfo(f"run{number:03d}", f"2026-11-01T{number:02d}:00:00Z", commit, "main", True, "completed", seed=seed),
        status,
    )


def test_a_failure_that_follows_the_test_order_is_order_dependent_with_its_reproduction() -> None:
    outcomes = [seeded(1, 11, "passed"), seeded(2, 42, "failed"), seeded(3, 12, "passed"), seeded(4, 42, "failed")]
    (flaky,) = analyse(outcomes).flaky
    assert flaky.order_dependent and flaky.reproduce == "pytest -p randomly --randomly-seed=42"
    assert "order-dependent" in flaky.reasons[-1]


def test_a_seed_that_both_failed_and_passed_is_plain_flakiness() -> None:
    outcomes = [seeded(1, 42, "passed"), seeded(2, 42, "failed"), seeded(3, 7, "passed")]
    (flaky,) = analyse(outcomes).flaky
    assert not flaky.order_dependent and flaky.reproduce is None


def test_without_seeds_nothing_is_said_about_order() -> None:
    outcomes = [seeded(1, None, "passed"), seeded(2, None, "failed"), seeded(3, None, "passed")]
    (flaky,) = analyse(outcomes).flaky
    assert not flaky.order_dependent
