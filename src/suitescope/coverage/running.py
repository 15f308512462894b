"""Totals of a coverage.py measurement that was already running when the run started: `coverage run
manage.py test`, `coverage run -m suitescope.unittest`, `coverage run -m pytest`. Django imports the project's
code before any test runner exists, so under Django this is how every line is counted; suitescope reads the
result and measures nothing itself.

With `--parallel-mode` (and `concurrency = multiprocessing` for Django's `--parallel` workers) each process saves
its own data file: this process saves what it has so far, and the files are combined into a temporary file for
the totals, kept in place for the user's own `coverage combine`.
"""

from __future__ import annotations

import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any

from suitescope.coverage.totals import coverage_totals
from suitescope.schema.records import Coverage


def running_coverage() -> Any:
    """The `coverage.Coverage` measuring this process, if coverage.py is imported and one is running."""
    module = sys.modules.get("coverage")
    current = getattr(getattr(module, "Coverage", None), "current", None)
    return current() if current is not None else None


def running_totals() -> Coverage | None:
    """The running measurement's totals so far, every process's saved data included; None without one."""
    cov = running_coverage()
    if cov is None:
        return None
    import coverage

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if not cov.get_option("run:parallel"):
            cov.get_data()  # the tracer's data so far, into the data the report reads
            return coverage_totals(cov, "coverage.py")
        cov.save()  # this process's part, next to the files the workers saved when they ended
        data_file = Path(cov.config.data_file).resolve()
        with tempfile.TemporaryDirectory(prefix="suitescope-cov-") as tmp:
            combined = coverage.Coverage(data_file=str(Path(tmp) / data_file.name), config_file=cov.config.config_file)
            combined.combine([str(data_file.parent)], keep=True)
            return coverage_totals(combined, "coverage.py")
