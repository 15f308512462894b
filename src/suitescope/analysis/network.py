"""Network findings: tests that reached a host that is not this machine ("unmocked network")."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from suitescope.analysis.queries import final_with
from suitescope.schema.records import TestRecord


@dataclass
class ExternalCalls:
    """A test's connections to other machines, with the runs that showed them."""

    id: str
    hosts: list[str] = field(default_factory=list)  # host:port, or the URL where the client gave one
    calls: int = 0
    databases: bool = False  # some of them were database connections (e.g. a CI service container)
    runs: list[str] = field(default_factory=list)


def external_calls(tests: Iterable[TestRecord]) -> list[ExternalCalls]:
    """Tests with at least one non-loopback call, most calls first."""
    found: dict[str, ExternalCalls] = {}
    for test in final_with(tests, "network"):
        network = test["network"]
        assert network is not None
        for call in network:
            if call["loopback"]:
                continue
            entry = found.setdefault(test["id"], ExternalCalls(test["id"]))
            target = call["url"] or f"{call['host']}:{call['port']}"
            if target not in entry.hosts:
                entry.hosts.append(target)
            entry.calls += call["count"]
            entry.databases = entry.databases or call["kind"] == "db"
            if test["run_id"] not in entry.runs:
                entry.runs.append(test["run_id"])
    return sorted(found.values(), key=lambda e: (-e.calls, e.id))
