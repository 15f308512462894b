"""`suitescope report --flaky --lost`: the analysis findings over local runs, as tables or JSON."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text  # user data goes into Text, never into markup

from suitescope.analysis.flaky import analyse
from suitescope.analysis.history import from_runs
from suitescope.analysis.lost import gaps, lost_tests
from suitescope.analysis.regressions import duration_regressions, new_hosts, query_regressions
from suitescope.analysis.runs import Loaded


def findings_data(loaded: Loaded, flaky: bool, lost: bool, regressions: bool = False) -> dict[str, Any]:
    outcomes = list(from_runs(loaded.runs))
    data: dict[str, Any] = {}
    if regressions:
        data["regressions"] = {
            "durations": [{**asdict(r), "ratio": r.ratio} for r in duration_regressions(outcomes)],
            "queries": [asdict(r) for r in query_regressions(outcomes)],
            "new_hosts": [asdict(h) for h in new_hosts(outcomes)],
        }
    if flaky:
        found = analyse(outcomes)
        data["flaky"] = [asdict(f) for f in found.flaky]
        data["broken"] = [asdict(b) for b in found.broken]
        data["infra"] = {"failures": found.infra_failures, "runs": found.infra_runs}
    if lost:
        data["lost"] = [asdict(item) for item in lost_tests(outcomes)]
        records = [run.run for run in loaded.runs if run.run is not None]
        found_gaps = gaps((r["run_id"], r["tests_expected"], r["tests_executed"]) for r in records)
        data["gaps"] = [{**asdict(g), "missing": g.missing} for g in found_gaps]
    return data


def render_findings(data: dict[str, Any], console: Console) -> None:
    if "regressions" in data:
        for table in regression_tables(data["regressions"]):
            console.print(table)
    if "flaky" in data:
        console.print(flaky_table(data["flaky"]) if data["flaky"] else "[green]No flaky tests.[/]")
        for row in data["flaky"]:
            if row["reproduce"]:
                console.print(Text(f"order-dependent: {row['test']}; reproduce with: {row['reproduce']}"))
        if data["broken"]:
            console.print(broken_table(data["broken"]))
        infra = data["infra"]
        if infra["failures"]:
            console.print(
                f"{infra['failures']} failures set apart as infrastructure (collection errors, crashed or "
                f"interrupted runs, lost workers) in {len(infra['runs'])} runs: not counted as flaky or broken."
            )
    if "lost" in data:
        console.print(lost_table(data["lost"]) if data["lost"] else "[green]No lost tests.[/]")
        for gap in data["gaps"]:
            console.print(f"run {gap['run_id']}: {gap['missing']} of {gap['expected']} collected tests never ran")


def flaky_table(rows: list[dict[str, Any]]) -> Table:
    table = Table(title=f"{len(rows)} flaky test{'s' * (len(rows) != 1)}", title_justify="left")
    for name, justify in (
        ("test", "left"),
        ("rate", "right"),
        ("95% interval", "right"),
        ("runs", "right"),
        ("why", "left"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for row in rows:
        table.add_row(
            Text(row["test"]),
            f"{row['rate']:.0%}",
            f"{row['low']:.0%}-{row['high']:.0%}",
            f"{row['flaky_runs']}/{row['runs']}",
            Text("; ".join(row["reasons"])),
        )
    return table


def broken_table(rows: list[dict[str, Any]]) -> Table:
    table = Table(title=f"{len(rows)} broken test{'s' * (len(rows) != 1)}", title_justify="left")
    for name in ("test", "branch", "failing runs", "since commit", "last passing"):
        table.add_column(name)
    for row in rows:
        table.add_row(
            Text(row["test"]),
            Text(row["branch"] or "-"),
            str(row["failing_runs"]),
            (row["first_failing_commit"] or "-")[:12],
            (row["last_passing_commit"] or "-")[:12],
        )
    return table


def lost_table(rows: list[dict[str, Any]]) -> Table:
    table = Table(title=f"{len(rows)} lost test{'s' * (len(rows) != 1)}", title_justify="left")
    for name in ("test", "branch", "last seen in run", "why"):
        table.add_column(name)
    for row in rows:
        table.add_row(Text(row["test"]), Text(row["branch"] or "-"), row["last_seen_run"][-8:], Text(row["reason"]))
    return table


def regression_tables(found: dict[str, list[dict[str, Any]]]) -> list[Table | Text | str]:
    if not any(found.values()):
        return ["[green]No regressions.[/]"]
    tables: list[Table | Text | str] = []
    if found["durations"]:
        table = Table(title="slower since", title_justify="left")
        for name in ("test", "branch", "environment", "baseline", "now", "since commit"):
            table.add_column(name)
        for r in found["durations"]:
            table.add_row(
                Text(r["test"]),
                Text(r["branch"] or "-"),
                r["environment"],
                f"{r['baseline_ms']:.1f} ms",
                f"{r['recent_ms']:.1f} ms ({r['ratio']:.1f}x)",
                (r["since_commit"] or "-")[:12],
            )
        tables.append(table)
    for r in found["queries"]:
        tables.append(
            f"{r['test']}: {r['before']} -> {r['now']} queries since {(r['since_commit'] or r['since_run'])[:12]}"
        )
    for h in found["new_hosts"]:
        tables.append(f"{h['test']}: reaches {h['host']} since {(h['since_commit'] or h['since_run'])[:12]}")
    return tables
