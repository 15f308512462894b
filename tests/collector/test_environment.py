"""Environment tags: git in one subprocess, the project's name, and the CI branch winning over a detached HEAD."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from suitescope.collector import environment as env_module
from suitescope.collector.environment import environment, parse_git_status, project_from_pyproject, read_git

PYTEST = {"name": "pytest", "version": "9"}


def git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args],
        cwd=root,
        check=True,
        capture_output=True,
    )


def test_git_commit_branch_and_dirty_in_one_subprocess(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    git(tmp_path, "init", "-q", "-b", "trunk")
    (tmp_path / "a.txt").write_text("a")
    git(tmp_path, "add", "a.txt")
    git(tmp_path, "commit", "-qm", "first")
    calls: list[Any] = []
    real_run = subprocess.Popen

    def counting_run(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        return real_run(*args, **kwargs)

    monkeypatch.setattr(env_module.subprocess, "Popen", counting_run)
    clean = read_git(tmp_path)
    assert clean is not None
    assert clean["branch"] == "trunk" and clean["dirty"] is False and len(clean["commit"] or "") == 40
    assert len(calls) == 1
    (tmp_path / "a.txt").write_text("changed")
    assert (read_git(tmp_path) or {}).get("dirty") is True


def test_outside_git_there_is_no_git_info(tmp_path: Path) -> None:
    assert read_git(tmp_path) is None


def test_parse_detached_and_initial() -> None:
    info = parse_git_status("# branch.oid (initial)\n# branch.head (detached)\n")
    assert info == {"commit": None, "branch": None, "dirty": False}


def test_ci_branch_wins_over_a_detached_head(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    git: Any = {"commit": "c" * 40, "branch": None, "dirty": False}
    env = environment(PYTEST, git, {"GITHUB_ACTIONS": "true", "GITHUB_REF_NAME": "release"})
    assert env["git"] is not None and env["git"]["branch"] == "release"
    assert env["ci"] is not None and env["ci"]["provider"] == "github-actions"
    assert len(env["host"]) == 16


def test_project_name_from_pyproject(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert project_from_pyproject(tmp_path) is None
    (tmp_path / "pyproject.toml").write_text('[tool.x]\nname = "not-this"\n\n[project]\nversion = "1"\nname = "shop"\n')
    assert project_from_pyproject(tmp_path) == "shop"
    (tmp_path / "pyproject.toml").write_text("[project\nname = ")
    assert project_from_pyproject(tmp_path) is None


def test_project_name_without_tomllib_as_on_python_310(tmp_path: Path) -> None:
    text = '[tool.x]\nname = "not-this"\n\n[project]\nversion = "1"\nname = "shop"\n\n[other]\nname = "no"\n'
    table = env_module._PROJECT_TABLE.search(text)
    assert table is not None
    match = env_module._NAME.search(table.group(1))
    assert match is not None and match.group(1) == "shop"
