"""Duration, query and host regressions on synthetic histories, with the usual traps."""

from __future__ import annotations

from dataclasses import replace

from suitescope.analysis.history import Outcome, RunInfo
from suitescope.analysis.regressions import duration_regressions, new_hosts, query_regressions


def point(
    n: int, ms: float, ci: bool = True, env: str = "3.12 Linux", queries: int | None = None, hosts: tuple[str, ...] = ()
) -> Outcome:
    run = RunInfo(f"run{n:03d}", f"2026-11-01T00:{n:02d}:00Z", f"c{n}", "main", ci, "completed", environment=env)
    return Outcome("t.py::test_x", "t.py", run, "passed", None, 1, True, None, ms, queries, hosts)


def series(durations: list[float], **kw: object) -> list[Outcome]:
    return [point(n, ms, **kw) for n, ms in enumerate(durations)]  # type: ignore[arg-type]


STABLE = [100.0, 102, 98, 101, 99, 100, 103, 97, 100, 101]


def test_a_sustained_slowdown_is_a_regression_since_its_first_slow_run() -> None:
    (found,) = duration_regressions(series([*STABLE, 180, 175, 190]))
    assert (found.since_run, found.since_commit, found.runs) == ("run010", "c10", ("run010", "run011", "run012"))
    assert found.baseline_ms == 100.0 and found.recent_ms == 180 and round(found.ratio, 1) == 1.8


def test_one_slow_outlier_is_not() -> None:
    assert duration_regressions(series([*STABLE, 400, 100, 101])) == []
    assert duration_regressions(series([*STABLE, 100, 101, 400])) == []


def test_local_runs_are_neither_baseline_nor_regression() -> None:
    outcomes = series(STABLE) + [point(20 + i, 300, ci=False) for i in range(3)]
    assert duration_regressions(outcomes) == []
    fast_laptop = [point(30 + i, 10, ci=False) for i in range(10)] + [point(40 + i, 101) for i in range(3)]
    assert duration_regressions(series(STABLE) + fast_laptop) == []  # local runs are no baseline either


def test_environments_are_compared_only_with_themselves() -> None:
    outcomes = series(STABLE) + [
        replace(p, run=replace(p.run, run_id=f"py313-{i}", environment="3.13 Linux"))
        for i, p in enumerate(series([300, 300, 300]))
    ]
    assert duration_regressions(outcomes) == []


def test_a_noisy_baseline_needs_a_bigger_change() -> None:
    noisy = [100.0, 160, 70, 130, 90, 150, 60, 140, 110, 80]
    assert duration_regressions(series([*noisy, 170, 165, 175])) == []
    assert duration_regressions(series([*noisy, 400, 420, 410]))


def test_too_short_a_history_says_nothing() -> None:
    assert duration_regressions(series([100, 100, 100, 300, 300, 300])) == []


def test_query_count_growth_since_a_run() -> None:
    outcomes = [point(n, 1.0, queries=q) for n, q in enumerate([12, 12, 13, 12, 37])]
    (found,) = query_regressions(outcomes)
    assert (found.before, found.now, found.since_run, found.since_commit) == (12, 37, "run004", "c4")
    assert query_regressions([point(n, 1.0, queries=q) for n, q in enumerate([12, 12, 14])]) == []  # noise
    assert query_regressions([point(0, 1.0, queries=None), point(1, 1.0, queries=None)]) == []  # not measured


def test_a_new_external_host() -> None:
    outcomes = [point(0, 1.0, hosts=("api.example.com",)), point(1, 1.0, hosts=("api.example.com", "evil.example.net"))]
    (found,) = new_hosts(outcomes)
    assert (found.host, found.since_run) == ("evil.example.net", "run001")
    assert new_hosts([point(0, 1.0, hosts=("api.example.com",))]) == []  # nothing to compare with yet
