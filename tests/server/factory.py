"""Reports as the collector writes them, made to order for server tests (every field of schema v1)."""

from __future__ import annotations

import copy
import gzip
from datetime import datetime, timedelta, timezone
from typing import Any

import orjson

from suitescope.schema.codec import SCHEMA_VERSION
from suitescope.schema.ids import new_run_id

TEST: dict[str, Any] = {
    "schema_version": SCHEMA_VERSION,
    "kind": "test",
    "class": None,
    "line": 5,
    "params": None,
    "when": None,
    "phases": {"setup_ms": 0.2, "call_ms": 1.0, "teardown_ms": 0.1},
    "worker": None,
    "attempt": 1,
    "final": True,
    "assertions": {"passed": 1, "failed": 0},
    "failure": None,
    "reason": None,
    "markers": [],
    "db": {
        "count": 0,
        "duration_ms": 0.0,
        "phases": {"setup": 0, "call": 0, "teardown": 0},
        "n_plus_one": [],
        "shapes_dropped": 0,
    },
    "db_queries": [],
    "network": [],
    "net_urls": [],
    "memory": {
        "rss_start_kb": 40000,
        "rss_end_kb": 40100,
        "rss_peak_kb": 40100,
        "peak_exact": False,
        "growth_kb": 100,
        "traced_peak_kb": None,
        "top": None,
    },
    "cpu": {"user_ms": 0.5, "system_ms": 0.1},
}

RUN: dict[str, Any] = {
    "schema_version": SCHEMA_VERSION,
    "kind": "run",
    "project": "shop",
    "vendor": "acme",
    "exit_status": 0,
    "state": "completed",
    "reruns": 0,
    "classes": 0,
    "modules": 1,
    "exceptions": 0,
    "errors": 0,
    "collection_errors": 0,
    "subtests_failed": 0,
    "lost_workers": 0,
    "memory": {"peak_rss_kb": 50000, "processes": {"main": 50000}},
    "cpu": {"user_s": 1.0, "system_s": 0.1},
    "effects": {"db_queries": 0, "db_duration_ms": 0.0, "n_plus_one_tests": 0, "external_network_tests": 0},
    "coverage": None,
    "environment": {
        "python": {"implementation": "CPython", "version": "3.12.4"},
        "framework": {"name": "pytest", "version": "8.3.2"},
        "os": {"name": "Linux", "release": "6.1"},
        "arch": "x86_64",
        "ci": None,
        "git": {"commit": "abc123", "branch": "main", "dirty": False},
        "host": "0123456789abcdef",
    },
    "configuration": {"workers": 0, "reruns": None, "randomly_seed": None, "plugins": {}, "options": []},
    "collector": {"name": "suitescope", "version": "0.1.0"},
    "consent": {"recording": "option", "sending": True, "anonymity": "named"},
}


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def make_report(
    statuses: list[str] | None = None,
    *,
    run_id: str | None = None,
    started: datetime | None = None,
    durations: list[float] | None = None,
    python: str = "3.12.4",
    branch: str = "main",
    names: list[str] | None = None,
    commit: str = "abc123",
    ci: bool = False,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A run of len(statuses) tests (default: three passing), test i named `tests/test_mod.py::test_<i>`."""
    statuses = statuses or ["passed"] * 3
    run_id = run_id or new_run_id()
    started = started or datetime.now(timezone.utc)
    durations = durations or [1.0 + i for i in range(len(statuses))]
    tests = []
    for i, status in enumerate(statuses):
        name = names[i] if names else f"test_{i}"
        test = copy.deepcopy(TEST)
        test.update(
            run_id=run_id,
            id=f"tests/test_mod.py::{name}",
            name=name,
            module="test_mod",
            file="tests/test_mod.py",
            status=status,
            start_time=iso(started),
            end_time=iso(started),
            duration_ms=durations[i],
        )
        if status in ("failed", "error"):
            test["when"] = "call"
            test["failure"] = {"type": "AssertionError", "message": f"assert {i} == 0", "fingerprint": f"fp{i % 2}"}
        tests.append(test)
    run = copy.deepcopy(RUN)
    counts = dict.fromkeys(("passed", "failed", "error", "skipped", "xfailed", "xpassed"), 0)
    for status in statuses:
        counts[status] += 1
    run["environment"]["python"]["version"] = python
    run["environment"]["git"]["branch"] = branch
    run["environment"]["git"]["commit"] = commit
    if ci:
        run["environment"]["ci"] = {
            "provider": "github",
            "build_id": "1",
            "build_url": None,
            "branch": branch,
            "commit": commit,
            "pr": None,
        }
    run.update(
        run_id=run_id,
        started=iso(started),
        finished=iso(started + timedelta(seconds=2)),
        duration_ms=2000.0,
        tests_duration_ms=sum(durations),
        counts=counts,
        tests=len(statuses),
        attempts=len(statuses),
        assertions={"total": len(statuses), "passed": len(statuses), "failed": 0},
        tests_expected=len(statuses),
        tests_executed=len(statuses),
    )
    return run, tests


def ndjson(run: dict[str, Any], tests: list[dict[str, Any]]) -> bytes:
    return b"".join(orjson.dumps(record) + b"\n" for record in [*tests, run])


def gzipped(data: bytes) -> bytes:
    return gzip.compress(data)


def add_query(test: dict[str, Any], sql: str, fingerprint: str, count: int, *, n_plus_one: bool = False) -> None:
    """Give a test record a query shape run `count` times in its call (and an N+1 finding for it if asked)."""
    test["db_queries"].append(
        {
            "sql": sql,
            "fingerprint": fingerprint,
            "kind": sql.split()[0].upper(),
            "phase": "call",
            "database": "default",
            "count": count,
            "total_duration_ms": 0.1 * count,
            "params": None,
        }
    )
    test["db"]["count"] += count
    test["db"]["phases"]["call"] += count
    if n_plus_one:
        test["db"]["n_plus_one"].append({"fingerprint": fingerprint, "sql": sql, "count": count})


def add_host(test: dict[str, Any], host: str, *, loopback: bool = False, count: int = 1) -> None:
    """Give a test record `count` HTTPS calls to a host in its call."""
    test["network"].append(
        {
            "kind": "http",
            "scheme": "https",
            "host": host,
            "port": 443,
            "url": f"https://{host}/",
            "loopback": loopback,
            "phase": "call",
            "count": count,
        }
    )
