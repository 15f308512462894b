"""The latency figures the read and page benchmarks print: p50, p95 and max of a list of times, a verdict
against the target, and the worst p95 of them all."""

from __future__ import annotations

import statistics
from typing import Any


def figures_of(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
    return {"p50_ms": statistics.median(ordered), "p95_ms": p95, "max_ms": ordered[-1]}


def line(name: str, found: dict[str, float], target_ms: float, width: int) -> str:
    """One row of the table: name, (first,) p50, p95, max, and `over` when p95 misses the target."""
    first = f" {found['first_ms']:9.1f}" if "first_ms" in found else ""
    verdict = "" if found["p95_ms"] <= target_ms else f"  over {target_ms:.0f} ms"
    return f"{name:<{width}}{first} {found['p50_ms']:8.1f} {found['p95_ms']:8.1f} {found['max_ms']:8.1f}{verdict}"


def worst(figures: dict[str, Any], target_ms: float) -> str:
    p95 = max(value["p95_ms"] for value in figures.values() if isinstance(value, dict))
    return f"worst p95: {p95:.1f} ms (target {target_ms:.0f} ms: {'met' if p95 <= target_ms else 'MISSED'})"
