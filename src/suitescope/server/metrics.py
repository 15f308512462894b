"""Counters the server keeps while it runs, and `/metrics` in Prometheus' text exposition format."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field


@dataclass
class Metrics:
    counters: Counter[tuple[str, str]] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, name: str, amount: float = 1, label: str = "") -> None:
        with self._lock:
            self.counters[(name, label)] += amount  # type: ignore[assignment]

    def value(self, name: str, label: str = "") -> float:
        return self.counters[(name, label)]


HELP = {
    "suitescope_reports_accepted_total": "Reports queued by the API (202), by source.",
    "suitescope_reports_stored_total": "Reports the worker stored (first delivery of a run).",
    "suitescope_reports_duplicate_total": "Reports the worker found already stored (a re-sent run_id).",
    "suitescope_results_stored_total": "Test results stored.",
    "suitescope_job_failures_total": "Jobs that failed and will be retried or were dead-lettered.",
    "suitescope_store_unavailable_total": "Times the worker found the store down and put the job back.",
    "suitescope_http_errors_total": "Answers with a 4xx or 5xx status, by status.",
}


def exposition(metrics: Metrics, gauges: dict[str, tuple[str, dict[str, float]]]) -> str:
    """The text format: `# HELP`, `# TYPE`, then one sample per label value."""
    lines: list[str] = []
    with metrics._lock:
        snapshot = dict(metrics.counters)
    for name, help_text in HELP.items():
        lines += [f"# HELP {name} {help_text}", f"# TYPE {name} counter"]
        samples = {label: value for (metric, label), value in snapshot.items() if metric == name} or {"": 0}
        lines += [f"{name}{_labels(label)} {_number(value)}" for label, value in sorted(samples.items())]
    for name, (help_text, values) in gauges.items():
        lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
        lines += [f"{name}{_labels(label)} {_number(value)}" for label, value in sorted(values.items())]
    return "\n".join(lines) + "\n"


def _labels(label: str) -> str:
    """`key=value` as Prometheus labels; values are our own words (sources, states, statuses), never user data."""
    if not label:
        return ""
    key, _, value = label.partition("=")
    return f'{{{key}="{value}"}}'


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))
