"""The collector: records what every test did, inside the test process, without ever hurting it.

Imports nothing here: pytest imports `suitescope.collector.pytest_plugin` in every test process.
"""
