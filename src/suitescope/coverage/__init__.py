"""Coverage of a run, with coverage.py as the measuring engine: totals for the run record (`totals.py`), and our
own measurement for `--suitescope-cov` in every process of a run, combined by the one that writes it
(`engine.py`). Imported only when a run measures coverage: coverage.py is not a dependency of the collector.
"""
