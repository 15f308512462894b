"""Environment tags of a run: Python, framework, OS, arch, CI, git and the project's name.

Read once per run, in the process that writes the run record. Git costs one subprocess (`git status
--porcelain=v2 --branch` names the commit, the branch and whether the tree is dirty in one call), started when
the run starts and read when its record is written (`GitStatus`): it runs beside the tests, on another core,
and a slow or missing git costs at most a short timeout at the end.
"""

from __future__ import annotations

import hashlib
import os
import platform
import re
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from suitescope.collector.ci import detect_ci
from suitescope.schema.records import Environment, Framework, GitInfo

GIT_TIMEOUT_S = 2.0


def environment(framework: Framework, git: GitInfo | None, env: Mapping[str, str] | None = None) -> Environment:
    """Everything the run record says about where it ran."""
    env = os.environ if env is None else env
    ci = detect_ci(env)
    if git is not None and ci is not None:
        # CI checkouts are often a detached HEAD: the CI's own branch name is the better one.
        git["branch"] = ci["branch"] or git["branch"]
    return {
        "python": {"implementation": platform.python_implementation(), "version": platform.python_version()},
        "framework": framework,
        "os": {"name": platform.system(), "release": platform.release()},
        "arch": platform.machine(),
        "ci": ci,
        "git": git,
        "host": host_fingerprint(),
    }


class GitStatus:
    """`git status` of the work tree at `root`, running from now until `result()` is asked for."""

    def __init__(self, root: Path) -> None:
        self.proc: subprocess.Popen[str] | None
        try:
            self.proc = subprocess.Popen(
                ["git", "status", "--porcelain=v2", "--branch", "--untracked-files=no"],
                cwd=root,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
            )
        except OSError:  # no git
            self.proc = None

    def result(self) -> GitInfo | None:
        """Commit, branch and dirtiness, or None outside git (or without git, or when it took too long)."""
        proc, self.proc = self.proc, None
        if proc is None:
            return None
        try:
            out, _ = proc.communicate(timeout=GIT_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            return None
        return parse_git_status(out) if proc.returncode == 0 else None


def read_git(root: Path) -> GitInfo | None:
    """Commit, branch and dirtiness of the work tree at `root`, now."""
    return GitStatus(root).result()


def parse_git_status(text: str) -> GitInfo:
    """Parse `git status --porcelain=v2 --branch` output."""
    info: GitInfo = {"commit": None, "branch": None, "dirty": False}
    for line in text.splitlines():
        if line.startswith("# branch.oid "):
            oid = line.split(" ", 2)[2]
            info["commit"] = None if oid == "(initial)" else oid
        elif line.startswith("# branch.head "):
            head = line.split(" ", 2)[2]
            info["branch"] = None if head == "(detached)" else head
        elif line and not line.startswith("#"):
            info["dirty"] = True
    return info


def host_fingerprint() -> str:
    """A short hash of the host name: tells "same machine" apart without saying which machine."""
    return hashlib.sha256(f"suitescope-host:{platform.node()}".encode()).hexdigest()[:16]


_PROJECT_TABLE = re.compile(r"^\[project\]\s*$(.*?)(?=^\[|\Z)", re.MULTILINE | re.DOTALL)
_NAME = re.compile(r"""^name\s*=\s*["']([^"']+)["']""", re.MULTILINE)


def project_from_pyproject(root: Path) -> str | None:
    """`[project].name` of the pyproject.toml at `root`, if there is one."""
    path = root / "pyproject.toml"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return None
    if sys.version_info >= (3, 11):
        import tomllib

        try:
            name = tomllib.loads(text).get("project", {}).get("name")
        except tomllib.TOMLDecodeError:
            return None
        return name if isinstance(name, str) else None
    # Python 3.10 has no TOML reader in the standard library; one key of one table is all we need.
    table = _PROJECT_TABLE.search(text)
    match = _NAME.search(table.group(1)) if table else None
    return match.group(1) if match else None
