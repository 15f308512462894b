"""The one guard every hook body and instrument runs inside.

The collector must never fail the suite it measures. A part that raises is switched off for the rest of the run
and costs one line in the terminal summary; it never raises into pytest and never calls `warnings.warn` (many
suites turn warnings into errors). suitescope's own test suite sets SUITESCOPE_STRICT=1 so that our bugs raise
there instead of hiding, as sentry-python's tests do with its swallower.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager


def debug_channels() -> frozenset[str]:
    """Named debug channels from SUITESCOPE_DEBUG (e.g. `sink,plugin`), printed to stderr."""
    return frozenset(c.strip() for c in os.environ.get("SUITESCOPE_DEBUG", "").split(",") if c.strip())


# How a failed part is named to the user, where "internal error" would mislead (the disk, not our code).
WHAT_FAILED = {"sink": "could not write the run file, so this run's telemetry is incomplete"}


class Guard:
    """Swallows, counts and reports failures of named parts; a failed part stays off."""

    def __init__(self, strict: bool | None = None) -> None:
        self.strict = os.environ.get("SUITESCOPE_STRICT") == "1" if strict is None else strict
        self.failures: dict[str, int] = {}
        self.first_error: dict[str, str] = {}
        self.notes: list[str] = []
        self._debug = debug_channels()

    def active(self, part: str) -> bool:
        return part not in self.failures

    @contextmanager
    def __call__(self, part: str) -> Iterator[None]:
        """Run the body; on any Exception, disable `part` and remember one line about it."""
        try:
            yield
        except Exception as exc:
            self.fail(part, exc)

    def fail(self, part: str, exc: BaseException) -> None:
        """Record that `part` raised (for hot paths that use a bare try/except instead of the context)."""
        if self.strict:
            raise exc
        self.failures[part] = self.failures.get(part, 0) + 1
        self.first_error.setdefault(part, f"{type(exc).__name__}: {exc}")
        self.debug("guard", f"{part} failed: {exc!r}")

    def note(self, line: str) -> None:
        """A problem that is not an exception (e.g. a token in a config file): one summary line."""
        if line not in self.notes:
            self.notes.append(line)

    def debug(self, channel: str, message: str) -> None:
        if channel in self._debug or "all" in self._debug:
            print(f"suitescope[{channel}]: {message}", file=sys.stderr)

    def summary_lines(self) -> list[str]:
        """What the terminal summary shows: one line per failed part, one per note."""
        lines = [
            f"suitescope: {WHAT_FAILED.get(part, f'{part} disabled after an internal error')} "
            f"({self.first_error[part]}); your tests were not affected"
            for part in self.failures
        ]
        return lines + [f"suitescope: {note}" for note in self.notes]
