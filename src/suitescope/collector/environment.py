"""Environment tags of a run: Python, framework, OS, arch, CI, git and the project's name.

Read once per run, in the process that writes the run record. Git costs at most one subprocess (`git status
--porcelain=v2 --branch` names the commit, the branch and whether the tree is dirty in one call) with a short
timeout, so a slow or missing git never delays the suite by more than that.
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


def environment(framework: Framework, root: Path, env: Mapping[str, str] | None = None) -> Environment:
    """Everything the run record says about where it ran."""
    env = os.environ if env is None else env
    ci = detect_ci(env)
    git = read_git(root)
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


def read_git(root: Path) -> GitInfo | None:
    """Commit, branch and dirtiness of the work tree at `root`, or None outside git (or without git)."""
    try:
        proc = subprocess.run(
            ["git", "status", "--porcelain=v2", "--branch", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if proc.returncode != 0:
        return None
    return parse_git_status(proc.stdout)


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
