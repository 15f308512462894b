"""CI detection: provider, build, branch, commit and pull request for each supported service."""

from __future__ import annotations

import pytest

from suitescope.collector.ci import detect_ci, truthy

CASES = [
    (
        "github-actions",
        {
            "GITHUB_ACTIONS": "true",
            "GITHUB_RUN_ID": "42",
            "GITHUB_SHA": "abc",
            "GITHUB_REF": "refs/pull/7/merge",
            "GITHUB_HEAD_REF": "feature",
            "GITHUB_SERVER_URL": "https://github.com",
            "GITHUB_REPOSITORY": "o/r",
        },
        ("42", "https://github.com/o/r/actions/runs/42", "feature", "abc", "7"),
    ),
    (
        "gitlab-ci",
        {
            "GITLAB_CI": "true",
            "CI": "true",
            "CI_JOB_ID": "9",
            "CI_JOB_URL": "https://gl/j/9",
            "CI_COMMIT_REF_NAME": "main",
            "CI_COMMIT_SHA": "def",
            "CI_MERGE_REQUEST_IID": "3",
        },
        ("9", "https://gl/j/9", "main", "def", "3"),
    ),
    (
        "circleci",
        {
            "CIRCLECI": "true",
            "CIRCLE_BUILD_NUM": "5",
            "CIRCLE_BUILD_URL": "https://c/5",
            "CIRCLE_BRANCH": "dev",
            "CIRCLE_SHA1": "s1",
            "CIRCLE_PULL_REQUEST": "https://github.com/o/r/pull/12",
        },
        ("5", "https://c/5", "dev", "s1", "12"),
    ),
    (
        "travis",
        {
            "TRAVIS": "true",
            "TRAVIS_BUILD_ID": "1",
            "TRAVIS_BRANCH": "main",
            "TRAVIS_COMMIT": "c",
            "TRAVIS_PULL_REQUEST": "false",
            "TRAVIS_BUILD_WEB_URL": "https://t/1",
        },
        ("1", "https://t/1", "main", "c", None),
    ),
    (
        "jenkins",
        {
            "JENKINS_URL": "https://j/",
            "BUILD_ID": "77",
            "BUILD_URL": "https://j/77",
            "GIT_BRANCH": "origin/main",
            "GIT_COMMIT": "g",
            "CHANGE_ID": "8",
        },
        ("77", "https://j/77", "main", "g", "8"),
    ),
    (
        "azure-pipelines",
        {
            "TF_BUILD": "True",
            "BUILD_BUILDID": "11",
            "SYSTEM_COLLECTIONURI": "https://dev.azure.com/o/",
            "SYSTEM_TEAMPROJECT": "p",
            "BUILD_SOURCEBRANCHNAME": "main",
            "BUILD_SOURCEVERSION": "v",
        },
        ("11", "https://dev.azure.com/o/p/_build/results?buildId=11", "main", "v", None),
    ),
    (
        "buildkite",
        {
            "BUILDKITE": "true",
            "BUILDKITE_BUILD_ID": "b",
            "BUILDKITE_BUILD_URL": "https://bk/b",
            "BUILDKITE_BRANCH": "main",
            "BUILDKITE_COMMIT": "k",
            "BUILDKITE_PULL_REQUEST": "false",
        },
        ("b", "https://bk/b", "main", "k", None),
    ),
    (
        "bitbucket-pipelines",
        {
            "BITBUCKET_BUILD_NUMBER": "3",
            "BITBUCKET_BRANCH": "main",
            "BITBUCKET_COMMIT": "bb",
            "BITBUCKET_PR_ID": "4",
            "BITBUCKET_GIT_HTTP_ORIGIN": "https://bitbucket.org/o/r",
        },
        ("3", "https://bitbucket.org/o/r/addon/pipelines/home#!/results/3", "main", "bb", "4"),
    ),
    (
        "teamcity",
        {"TEAMCITY_VERSION": "2024.1", "BUILD_NUMBER": "15", "BUILD_VCS_NUMBER": "tc"},
        ("15", None, None, "tc", None),
    ),
    (
        "appveyor",
        {
            "APPVEYOR": "True",
            "APPVEYOR_BUILD_ID": "6",
            "APPVEYOR_REPO_BRANCH": "main",
            "APPVEYOR_REPO_COMMIT": "a",
            "APPVEYOR_URL": "https://ci.appveyor.com",
            "APPVEYOR_ACCOUNT_NAME": "o",
            "APPVEYOR_PROJECT_SLUG": "r",
        },
        ("6", "https://ci.appveyor.com/project/o/r/builds/6", "main", "a", None),
    ),
    (
        "drone",
        {
            "DRONE": "true",
            "CI": "true",
            "DRONE_BUILD_NUMBER": "2",
            "DRONE_BUILD_LINK": "https://d/2",
            "DRONE_BRANCH": "main",
            "DRONE_COMMIT_SHA": "dr",
            "DRONE_PULL_REQUEST": "9",
        },
        ("2", "https://d/2", "main", "dr", "9"),
    ),
    (
        "woodpecker",
        {
            "CI": "woodpecker",
            "DRONE": "true",
            "CI_PIPELINE_NUMBER": "4",
            "CI_PIPELINE_URL": "https://w/4",
            "CI_COMMIT_BRANCH": "main",
            "CI_COMMIT_SHA": "wp",
            "CI_COMMIT_PULL_REQUEST": "5",
        },
        ("4", "https://w/4", "main", "wp", "5"),
    ),
    (
        "semaphore",
        {
            "SEMAPHORE": "true",
            "SEMAPHORE_JOB_ID": "j",
            "SEMAPHORE_WORKFLOW_ID": "w",
            "SEMAPHORE_GIT_BRANCH": "main",
            "SEMAPHORE_GIT_SHA": "se",
            "SEMAPHORE_ORGANIZATION_URL": "https://o.semaphoreci.com",
        },
        ("j", "https://o.semaphoreci.com/workflows/w", "main", "se", None),
    ),
    ("generic", {"CI": "1"}, (None, None, None, None, None)),
]


@pytest.mark.parametrize(("provider", "env", "expected"), CASES, ids=[c[0] for c in CASES])
def test_each_provider(provider: str, env: dict[str, str], expected: tuple[str | None, ...]) -> None:
    ci = detect_ci(env)
    assert ci is not None
    assert ci["provider"] == provider
    assert (ci["build_id"], ci["build_url"], ci["branch"], ci["commit"], ci["pr"]) == expected


@pytest.mark.parametrize("value", ["0", "false", "False", "", "no"])
def test_false_words_mean_no_ci(value: str) -> None:
    assert detect_ci({"CI": value, "GITHUB_ACTIONS": value, "TRAVIS": value}) is None


def test_no_ci_at_all() -> None:
    assert detect_ci({"HOME": "/root", "PATH": "/bin"}) is None


def test_truthy() -> None:
    assert truthy("true") and truthy("1") and truthy("yes")
    assert not truthy(None) and not truthy(" FALSE ") and not truthy("0")
