"""Side-by-side timing for the in-process benchmarks: variants alternate within each round (the round's first
variant rotates), so that machine drift hits all alike, and each is compared with the baseline of its round."""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable


def alternate(variants: dict[str, Callable[[], None]], rounds: int, progress: bool = True) -> dict[str, list[float]]:
    """Seconds of each variant in each round, rounds in order."""
    names = list(variants)
    seconds: dict[str, list[float]] = {name: [] for name in names}
    for round_no in range(rounds):
        shift = round_no % len(names)
        for name in names[shift:] + names[:shift]:
            if progress:
                print(f"\rround {round_no + 1}/{rounds}: {name:<24}", end="", file=sys.stderr, flush=True)
            start = time.perf_counter()
            variants[name]()
            seconds[name].append(time.perf_counter() - start)
    if progress:
        print(file=sys.stderr)
    return seconds


def median_ratio(seconds: dict[str, list[float]], variant: str, baseline: str) -> float:
    """Median over rounds of variant / baseline of the same round."""
    return statistics.median(v / b for v, b in zip(seconds[variant], seconds[baseline], strict=True))


def bench_env(**extra: str) -> dict[str, str]:
    """The environment of a benchmarked run: none of our own settings, and Python's bytecode cache on, as in a
    normal install (with PYTHONDONTWRITEBYTECODE set, a package installed in development mode is compiled from
    source at every start, about 20 ms that a user's installed copy never pays)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SUITESCOPE") and k != "PYTHONDONTWRITEBYTECODE"}
    env.update(extra)
    return env
