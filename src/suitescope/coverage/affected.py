"""Affected-test selection: which tests a change can affect, from the per-test coverage map. Conservative by rule:
when in doubt, a test is selected, and each selection says why.

A test is selected when
- its recorded lines touch a changed line of a file (the map records lines of the version it was made on, so a
  change is read on that side of the diff: removed and modified lines, and the neighbours of an insertion);
- its own test file changed;
- the map has no record of it (new, or never mapped);
- a file that is not Python changed (data, settings, templates: tests may read anything), or a `conftest.py`
  changed (fixtures of every test below it): then every test is.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+\d+(?:,\d+)? @@")


@dataclass
class Change:
    """What a diff changed: per Python file, the old-side lines (None: the whole file, e.g. deleted or new)."""

    lines: dict[str, set[int] | None] = field(default_factory=dict)

    def touch(self, path: str, lines: Iterable[int] | None) -> None:
        if lines is None or self.lines.get(path, set()) is None:
            self.lines[path] = None
            return
        self.lines.setdefault(path, set()).update(lines)  # type: ignore[union-attr]


def parse_diff(text: str) -> Change:
    """A unified diff (`git diff --unified=0`) as the old-side lines it changes, per file."""
    change = Change()
    path: str | None = None
    for line in text.splitlines():
        if line.startswith("--- "):
            old = line[4:].strip()
            path = None if old == "/dev/null" else old.removeprefix("a/")
        elif line.startswith("+++ "):
            new = line[4:].strip()
            if path is None:  # a new file: nothing of it was mapped, every test that imports it is new code
                path = new.removeprefix("b/")
                change.touch(path, None)
            elif new == "/dev/null":  # deleted
                change.touch(path, None)
        elif path is not None and (match := HUNK.match(line)):
            start, count = int(match.group(1)), int(match.group(2) if match.group(2) is not None else 1)
            if count == 0:  # an insertion after line `start`: the lines around it
                change.touch(path, {start, start + 1})
            else:
                change.touch(path, range(start, start + count))
    return change


@dataclass
class Selection:
    reasons: dict[str, str]  # test id -> why it is selected

    @property
    def tests(self) -> list[str]:
        return sorted(self.reasons)


def test_file(test_id: str) -> str:
    """The file part of a pytest node id (`tests/test_x.py::TestA::test_b` -> `tests/test_x.py`)."""
    return test_id.split("::", 1)[0]


def select(tests: Iterable[str], coverage_map: Mapping[str, Mapping[str, Iterable[int]]], change: Change) -> Selection:
    """The tests among `tests` that `change` can affect, each with its reason."""
    tests = list(tests)
    everything = [p for p in change.lines if not p.endswith(".py") or p.rsplit("/", 1)[-1] == "conftest.py"]
    if everything:
        why = f"{everything[0]} changed (not a module the map can follow: every test may read it)"
        return Selection(dict.fromkeys(tests, why))
    reasons: dict[str, str] = {}
    for test in tests:
        reason = why_selected(test, coverage_map.get(test), change)
        if reason is not None:
            reasons[test] = reason
    return Selection(reasons)


def why_selected(test: str, lines: Mapping[str, Iterable[int]] | None, change: Change) -> str | None:
    if test_file(test) in change.lines:
        return f"its file {test_file(test)} changed"
    if lines is None:
        return "no coverage map of it"
    for path, ran in lines.items():
        if path not in change.lines:
            continue
        changed = change.lines[path]
        if changed is None:
            return f"it ran {path}, which changed as a whole"
        hit = sorted(changed.intersection(ran))
        if hit:
            return f"it ran {path} lines {', '.join(map(str, hit[:5]))}{' ...' if len(hit) > 5 else ''}, changed"
    return None


def diff_since(root: Path, rev: str) -> str:
    """`git diff` of the work tree (committed or not) against `rev`, paths relative to `root`; ValueError
    with git's own message when `rev` is unknown or `root` is not in a git repository."""
    try:
        proc = subprocess.run(
            ["git", "diff", "--unified=0", "--no-color", "--no-ext-diff", "--relative", rev, "--"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise ValueError(f"could not run git: {exc}") from None
    if proc.returncode != 0:
        raise ValueError(f"git diff {rev} failed: {proc.stderr.strip() or proc.returncode}")
    return proc.stdout
