"""`TEST_RUNNER = "suitescope.django.TestRunner"`: Django's test runner, recording the run (docs/unittest.md)."""

from suitescope.collector.django_runner import TestRunner

__all__ = ["TestRunner"]
