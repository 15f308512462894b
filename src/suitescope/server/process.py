"""Settings of a server process (API or worker) made once at start, before it serves."""

from __future__ import annotations

import gc


def tune_gc() -> None:
    """Collect the young generation every 50,000 allocations instead of every 700.

    A report is tens of thousands of small dicts, parsed, validated and turned into rows, none of which forms a
    reference cycle; at CPython's default threshold the collector runs hundreds of times per report and walks
    every one of them, which measured as half of the time to parse a report (docs/benchmarks.md). `freeze()`
    moves what start-up made (modules, the app) out of every later collection.
    """
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
