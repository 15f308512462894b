"""suitescope: telemetry for test suites.

The package root stays tiny on purpose: pytest imports the collector at start-up in every test process, so
nothing here may import anything heavy.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
