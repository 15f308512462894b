"""`suitescope report`: what the recorded runs say, as tables for people or JSON for machines.

Both outputs come from one dict built by `report_data`, so `--json` never says something the tables do not.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text  # user data goes into Text, never into markup: a test named "[red]x" stays literal

from suitescope.analysis.coverage import coverage_trend
from suitescope.analysis.failures import group_failures
from suitescope.analysis.history import from_runs
from suitescope.analysis.memory import memory_growth
from suitescope.analysis.network import external_calls
from suitescope.analysis.queries import most_queries, n_plus_one
from suitescope.analysis.runs import Loaded, Run, load_runs
from suitescope.analysis.slow import slowest
from suitescope.cli.findings import findings_data, render_findings
from suitescope.schema.codec import SchemaVersionError
from suitescope.schema.records import STATUSES, Environment


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="print one JSON document instead of tables.")
@click.option("--slowest", "slow_limit", default=10, show_default=True, help="how many slow tests to list.")
@click.option(
    "--top", "top_limit", default=10, show_default=True, help="how many tests to list by queries and by memory."
)
@click.option("--last", type=int, default=None, help="only the last N runs of those found.")
@click.option("--flaky", is_flag=True, help="flaky and broken tests, with their evidence.")
@click.option("--regressions", is_flag=True, help="tests slower since a commit (CI runs), more queries, new hosts.")
@click.option("--lost", is_flag=True, help="tests the latest run of a branch lost, and why; and untested gaps.")
@click.option("--slow", is_flag=True, help="the slowest tests and their share of the suite's time.")
@click.option("--failures", is_flag=True, help="failures grouped by fingerprint.")
def report(
    paths: tuple[Path, ...],
    as_json: bool,
    slow_limit: int,
    top_limit: int,
    last: int | None,
    **only: bool,
) -> None:
    """Summarise recorded runs: counts, environment, slowest tests, failures grouped by fingerprint, and what
    the instruments saw: tests by query count, N+1 findings, tests that reached other machines, memory growth.

    PATHS are run files or directories of them (default: .telemetry). A run still in progress, with no run
    record yet, is read as far as it goes.
    """
    try:
        loaded = load_runs(paths or (Path(".telemetry"),))
    except (FileNotFoundError, SchemaVersionError) as exc:
        raise click.ClickException(str(exc)) from None
    if last is not None:
        loaded.runs = loaded.runs[-last:]
    if not loaded.runs:
        raise click.ClickException(
            f"no runs found in {', '.join(map(str, paths or ('.telemetry',)))}: record one with `pytest --suitescope`"
        )
    data = report_data(loaded, slow_limit, top_limit)
    if any(only.values()):  # one or more findings, and nothing else
        found = findings_data(loaded, only["flaky"], only["lost"], only["regressions"])
        if only["slow"]:
            found["slowest"] = data["slowest"]
        if only["failures"]:
            found["failure_groups"] = data["failure_groups"]
        if as_json:
            click.echo(json.dumps(found, indent=2))
            return
        console = Console(highlight=False)
        if "slowest" in found:
            console.print(slowest_table(found["slowest"]) if found["slowest"] else "No tests.")
        if "failure_groups" in found:
            console.print(
                failures_table(found["failure_groups"]) if found["failure_groups"] else "[green]No failures.[/]"
            )
        render_findings(found, console)
        return
    if as_json:
        click.echo(json.dumps(data, indent=2))
    else:
        render(data, Console(highlight=False))


def run_summary(run: Run) -> dict[str, Any]:
    """The figures of one run, from its run record or, while it is missing, from its test records."""
    if run.run is not None:
        record = run.run
        env = record["environment"]
        return {
            "run_id": run.run_id,
            "state": record["state"],
            "started": record["started"],
            "duration_ms": record["duration_ms"],
            "exit_status": record["exit_status"],
            "counts": dict(record["counts"]),
            "tests": record["tests"],
            "reruns": record["reruns"],
            "collection_errors": record["collection_errors"],
            "tests_expected": record["tests_expected"],
            "tests_executed": record["tests_executed"],
            "assertions": dict(record["assertions"]),
            "workers": record["configuration"]["workers"],
            "project": record["project"],
            "environment": environment_line(env),
        }
    tally = run.tally()
    return {
        "run_id": run.run_id,
        "state": "running",
        "started": run.tests[0]["start_time"] if run.tests else None,
        "duration_ms": None,
        "exit_status": None,
        "counts": dict(tally.counts),
        "tests": len(tally.executed),
        "reruns": tally.reruns,
        "collection_errors": tally.collection_errors,
        "tests_expected": None,
        "tests_executed": len(tally.executed),
        "assertions": {"total": None, "passed": tally.assertions_passed, "failed": tally.assertions_failed},
        "workers": None,
        "project": None,
        "environment": None,
    }


def environment_line(env: Environment) -> str:
    parts = [
        f"{env['python']['implementation']} {env['python']['version']}",
        f"{env['framework']['name']} {env['framework']['version']}",
        f"{env['os']['name']} {env['os']['release']} {env['arch']}",
    ]
    if env["ci"]:
        parts.append(f"CI {env['ci']['provider']}")
    git = env["git"]
    if git and git["commit"]:
        parts.append(f"git {git['branch'] or '(detached)'}@{git['commit'][:10]}{' dirty' if git['dirty'] else ''}")
    return " · ".join(parts)


def report_data(loaded: Loaded, slow_limit: int, top_limit: int = 10) -> dict[str, Any]:
    tests = [t for run in loaded.runs for t in run.tests]
    trend = {p.run_id: vars(p) for p in coverage_trend(run.run for run in loaded.runs if run.run is not None)}
    return {
        "runs": [{**run_summary(run), "coverage": trend.get(run.run_id)} for run in loaded.runs],
        "slowest": [vars(s) for s in slowest(from_runs(loaded.runs), slow_limit)],
        "failure_groups": [
            {**vars(g), "tests": sorted(g.tests), "runs": sorted(g.runs)} for g in group_failures(tests)
        ],
        "most_queries": [vars(q) for q in most_queries(tests, top_limit)],
        "n_plus_one": [vars(f) for f in n_plus_one(tests)],
        "external_network": [vars(e) for e in external_calls(tests)],
        "memory_growth": [vars(m) for m in memory_growth(tests, top_limit)],
        "warnings": loaded.warnings,
    }


STATUS_STYLE = {
    "passed": "green",
    "failed": "red",
    "error": "red",
    "skipped": "yellow",
    "xfailed": "yellow",
    "xpassed": "magenta",
}


def render(data: dict[str, Any], console: Console) -> None:
    console.print(runs_table(data["runs"]))
    latest = data["runs"][-1]
    if latest["environment"]:
        console.print(Text.assemble(("Latest run ", "bold"), f"{latest['run_id']}: {latest['environment']}"))
    if data["slowest"]:
        console.print(slowest_table(data["slowest"]))
    if data["failure_groups"]:
        console.print(failures_table(data["failure_groups"]))
    else:
        console.print("[green]No failures.[/]")
    for table in effects_tables(data):
        console.print(table)
    for warning in data["warnings"]:
        console.print(f"warning: {warning}", style="yellow", markup=False)


def runs_table(runs: list[dict[str, Any]]) -> Table:
    table = Table(title=f"{len(runs)} run{'s' if len(runs) != 1 else ''}", title_justify="left")
    table.add_column("run", no_wrap=True)
    table.add_column("started (UTC)", no_wrap=True)
    table.add_column("outcomes")
    table.add_column("expected", justify="right")
    table.add_column("time", justify="right", no_wrap=True)
    with_coverage = any(run["coverage"] for run in runs)
    if with_coverage:
        table.add_column("coverage", justify="right", no_wrap=True)
    for run in runs:
        expected = run["tests_expected"]
        gap = expected is not None and expected > run["tests_executed"]
        cells = [
            run["run_id"][-8:],  # the random tail: the head of a time-ordered id is the same for every run
            (run["started"] or "")[5:19].replace("T", " "),
            outcomes(run),
            Text(str(expected if expected is not None else "?"), style="red" if gap else ""),
            seconds(run["duration_ms"]),
        ]
        if with_coverage:
            cells.append(coverage_cell(run["coverage"]))
        table.add_row(*cells)
    return table


def coverage_cell(point: dict[str, Any] | None) -> Text:
    """`81.3% +1.2`: the run's coverage and its change since the branch's previous run (red when it fell)."""
    if point is None:
        return Text("")
    text = Text(f"{point['percent']:.1f}%")
    change = point["change"]
    if change:
        text.append(f" {change:+.1f}", style="red" if change < 0 else "green")
    return text


def outcomes(run: dict[str, Any]) -> Text:
    """`16 passed, 1 failed` in pytest's words and colours, with reruns and an unfinished state."""
    parts = [(f"{run['counts'][s]} {s}", STATUS_STYLE[s]) for s in STATUSES if run["counts"][s]]
    if run["reruns"]:
        parts.append((f"{run['reruns']} rerun", "yellow"))
    if run["collection_errors"]:
        parts.append((f"{run['collection_errors']} collection error", "red"))
    if run["state"] != "completed":
        parts.append((run["state"], "bold red"))
    text = Text()
    for i, (words, style) in enumerate(parts or [("no tests", "")]):
        text.append(", " if i else "")
        text.append(words, style=style)
    return text


def slowest_table(rows: list[dict[str, Any]]) -> Table:
    table = Table(title="Slowest tests (median of final attempts)", title_justify="left")
    table.add_column("test", overflow="fold")
    table.add_column("median", justify="right")
    table.add_column("max", justify="right")
    table.add_column("runs", justify="right")
    table.add_column("share", justify="right")
    for row in rows:
        table.add_row(
            Text(row["id"]), seconds(row["median_ms"]), seconds(row["max_ms"]), str(row["runs"]), f"{row['share']:.1%}"
        )
    return table


def failures_table(groups: list[dict[str, Any]]) -> Table:
    table = Table(title="Failures grouped by fingerprint", title_justify="left")
    table.add_column("fingerprint", no_wrap=True)
    table.add_column("type", no_wrap=True)
    table.add_column("message", overflow="fold", max_width=60)
    table.add_column("count", justify="right")
    table.add_column("tests", justify="right")
    table.add_column("example test", overflow="fold")
    for group in groups:
        message = group["message"].strip().splitlines()[0] if group["message"].strip() else ""
        table.add_row(
            group["fingerprint"][:8],
            Text(group["type"]),
            Text(message),
            str(group["count"]),
            str(len(group["tests"])),
            Text(group["tests"][0]),
        )
    return table


def effects_tables(data: dict[str, Any]) -> list[Table]:
    """The instruments' findings, each table only when it has rows."""
    tables = []
    if data["most_queries"]:
        table = titled("Tests by database queries (median of final attempts)", "test", "queries", "max", "db time")
        for row in data["most_queries"]:
            median = row["median_queries"]
            table.add_row(Text(row["id"]), f"{median:g}", str(row["max_queries"]), seconds(row["median_db_ms"]))
        tables.append(table)
    if data["n_plus_one"]:
        table = titled("N+1 queries: one SELECT repeated in one test", "test", "times", "query", "runs")
        for row in data["n_plus_one"]:
            table.add_row(Text(row["id"]), str(row["max_count"]), Text(row["sql"][:160]), str(len(row["runs"])))
        tables.append(table)
    if data["external_network"]:
        table = titled("Tests that reached other machines (unmocked network)", "test", "calls", "hosts", "runs")
        for row in data["external_network"]:
            hosts = ", ".join(row["hosts"][:5]) + (" (database)" if row["databases"] else "")
            table.add_row(Text(row["id"]), str(row["calls"]), Text(hosts), str(len(row["runs"])))
        tables.append(table)
    if data["memory_growth"]:
        table = titled("Tests by memory left behind (RSS growth)", "test", "growth", "max", "peak rise")
        for row in data["memory_growth"]:
            median, top, rise = row["median_growth_kb"], row["max_growth_kb"], row["max_peak_rise_kb"]
            table.add_row(Text(row["id"]), kib(median), kib(top), kib(rise))
        tables.append(table)
    return tables


def titled(title: str, first: str, *numbers: str) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column(first, overflow="fold")
    for name in numbers:
        table.add_column(name, justify="left" if name in ("query", "hosts") else "right", overflow="fold")
    return table


def kib(value: float) -> str:
    return f"{value / 1024:.1f} MiB" if abs(value) >= 1024 else f"{value:.0f} KiB"


def seconds(ms: float | None) -> str:
    if ms is None:
        return "-"
    return f"{ms / 1000:.2f}s" if ms >= 1000 else f"{ms:.0f}ms" if ms >= 10 else f"{ms:.1f}ms"
