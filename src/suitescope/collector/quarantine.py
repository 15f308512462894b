"""`--suitescope-quarantine=FILE|URL`: run the known flaky tests, but do not let them fail the suite.

The list is a file (one test id a line, `#` comments; or the JSON of `suitescope flaky --format json` or of
the server's `/api/v1/findings/flaky`), or that server URL itself (read with SUITESCOPE_TOKEN, 3 s at most:
a list that cannot be had quarantines nothing and says so in one line). Each listed test runs as
`xfail(strict=False)`: a failure is reported as xfailed, not failed, and the summary says how many of the
quarantined tests failed, so they are neither hidden nor able to break the build.
"""

from __future__ import annotations

import json
import os
import urllib.request
from pathlib import Path
from typing import Any

import pytest

REASON = "quarantined by suitescope: known flaky"


def parse(text: str) -> set[str]:
    """Test ids from a quarantine list: JSON (a list, or findings with `flaky`), else one id a line."""
    stripped = text.strip()
    if stripped.startswith(("[", "{")):
        data = json.loads(stripped)
        items = data.get("flaky", []) if isinstance(data, dict) else data
        return {item["test"] if isinstance(item, dict) else str(item) for item in items}
    return {line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")}


def load(source: str, root: Path) -> set[str]:
    """The ids of a file or URL; OSError/ValueError say why it could not be read."""
    if source.startswith(("http://", "https://")):
        token = os.environ.get("SUITESCOPE_TOKEN")
        request = urllib.request.Request(source, headers={"Authorization": f"Bearer {token}"} if token else {})
        with urllib.request.urlopen(request, timeout=3) as answer:
            return parse(answer.read().decode())
    return parse((root / source).read_text())


class QuarantineHooks:
    def __init__(self, config: pytest.Config, source: str) -> None:
        self.config = config
        self.source = source
        self.ids: set[str] = set()
        self.problem: str | None = None
        self.quarantined: list[str] = []

    def setup(self, config: pytest.Config) -> None:
        try:
            self.ids = load(self.source, config.rootpath)
        except FileNotFoundError:
            raise pytest.UsageError(f"suitescope: quarantine list {self.source} not found") from None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            self.problem = f"suitescope: quarantine list not read ({type(exc).__name__}: {exc}); nothing quarantined"

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            if item.nodeid in self.ids:
                item.add_marker(pytest.mark.xfail(reason=REASON, strict=False))
                self.quarantined.append(item.nodeid)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if hasattr(self.config, "workerinput"):
            return
        if self.problem:
            terminalreporter.write_line(self.problem)
            return
        failed = sum(
            1
            for r in terminalreporter.stats.get("xfailed", [])
            if r.nodeid in self.ids and REASON in str(getattr(r, "wasxfail", ""))
        )
        ran = len(
            {
                r.nodeid
                for key in ("xfailed", "xpassed")
                for r in terminalreporter.stats.get(key, [])
                if r.nodeid in self.ids
            }
        )
        if self.ids:
            terminalreporter.write_line(
                f"suitescope: {ran} quarantined test{'s' * (ran != 1)} ran; {failed} failed and did not fail the run"
            )
