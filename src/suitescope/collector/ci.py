"""Which CI service runs this process, and the build, branch, commit and pull request it names.

Each provider is one row of data: the variable that identifies it and the variables that hold each field. Only
the names of variables are read and only these fields are kept: no other environment value leaves this module.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import NamedTuple

from suitescope.schema.records import CiInfo

Env = Mapping[str, str]
FALSE_WORDS = frozenset({"", "0", "false", "no", "off", "n", "f"})


def truthy(value: str | None) -> bool:
    """CI variables say "false" and "0" as often as they leave a variable unset: both are false."""
    return value is not None and value.strip().lower() not in FALSE_WORDS


def first(env: Env, *names: str) -> str | None:
    """The first of `names` that is set to something that is not a false word."""
    for name in names:
        if truthy(env.get(name)):
            return env[name].strip()
    return None


class Provider(NamedTuple):  # a NamedTuple: a table of rows made at import costs little
    name: str
    detect: Callable[[Env], bool]
    build_id: tuple[str, ...] = ()
    branch: tuple[str, ...] = ()
    commit: tuple[str, ...] = ()
    pr: tuple[str, ...] = ()
    build_url: Callable[[Env], str | None] = lambda env: None


def _is(name: str) -> Callable[[Env], bool]:
    return lambda env: truthy(env.get(name))


def _github_url(env: Env) -> str | None:
    parts = first(env, "GITHUB_SERVER_URL"), first(env, "GITHUB_REPOSITORY"), first(env, "GITHUB_RUN_ID")
    return f"{parts[0]}/{parts[1]}/actions/runs/{parts[2]}" if all(parts) else None


def _azure_url(env: Env) -> str | None:
    base, project = first(env, "SYSTEM_COLLECTIONURI"), first(env, "SYSTEM_TEAMPROJECT")
    build = first(env, "BUILD_BUILDID")
    return f"{base.rstrip('/')}/{project}/_build/results?buildId={build}" if base and project and build else None


def _appveyor_url(env: Env) -> str | None:
    parts = (
        first(env, "APPVEYOR_URL"),
        first(env, "APPVEYOR_ACCOUNT_NAME"),
        first(env, "APPVEYOR_PROJECT_SLUG"),
    )
    build = first(env, "APPVEYOR_BUILD_ID")
    return f"{parts[0]}/project/{parts[1]}/{parts[2]}/builds/{build}" if all(parts) and build else None


def _bitbucket_url(env: Env) -> str | None:
    origin, build = first(env, "BITBUCKET_GIT_HTTP_ORIGIN"), first(env, "BITBUCKET_BUILD_NUMBER")
    return f"{origin}/addon/pipelines/home#!/results/{build}" if origin and build else None


def _semaphore_url(env: Env) -> str | None:
    org, workflow = first(env, "SEMAPHORE_ORGANIZATION_URL"), first(env, "SEMAPHORE_WORKFLOW_ID")
    return f"{org}/workflows/{workflow}" if org and workflow else None


def _is_woodpecker(env: Env) -> bool:
    return "woodpecker" in (env.get("CI", "").lower(), env.get("CI_SYSTEM_NAME", "").lower())


def _var(name: str) -> Callable[[Env], str | None]:
    return lambda env: first(env, name)


# Order matters where one service imitates another (Woodpecker sets CI=woodpecker and, in old versions,
# DRONE_* variables), and the generic `CI` row comes last.
PROVIDERS: tuple[Provider, ...] = (
    Provider(
        "github-actions",
        _is("GITHUB_ACTIONS"),
        ("GITHUB_RUN_ID",),
        ("GITHUB_HEAD_REF", "GITHUB_REF_NAME"),
        ("GITHUB_SHA",),
        (),
        _github_url,
    ),
    Provider(
        "gitlab-ci",
        _is("GITLAB_CI"),
        ("CI_JOB_ID", "CI_PIPELINE_ID"),
        ("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME", "CI_COMMIT_BRANCH", "CI_COMMIT_REF_NAME"),
        ("CI_COMMIT_SHA",),
        ("CI_MERGE_REQUEST_IID",),
        _var("CI_JOB_URL"),
    ),
    Provider(
        "circleci",
        _is("CIRCLECI"),
        ("CIRCLE_BUILD_NUM",),
        ("CIRCLE_BRANCH",),
        ("CIRCLE_SHA1",),
        ("CIRCLE_PR_NUMBER", "CIRCLE_PULL_REQUEST"),
        _var("CIRCLE_BUILD_URL"),
    ),
    Provider(
        "travis",
        _is("TRAVIS"),
        ("TRAVIS_BUILD_ID",),
        ("TRAVIS_PULL_REQUEST_BRANCH", "TRAVIS_BRANCH"),
        ("TRAVIS_COMMIT",),
        ("TRAVIS_PULL_REQUEST",),
        _var("TRAVIS_BUILD_WEB_URL"),
    ),
    Provider(
        "azure-pipelines",
        _is("TF_BUILD"),
        ("BUILD_BUILDID",),
        ("SYSTEM_PULLREQUEST_SOURCEBRANCH", "BUILD_SOURCEBRANCHNAME"),
        ("BUILD_SOURCEVERSION",),
        ("SYSTEM_PULLREQUEST_PULLREQUESTNUMBER", "SYSTEM_PULLREQUEST_PULLREQUESTID"),
        _azure_url,
    ),
    Provider(
        "buildkite",
        _is("BUILDKITE"),
        ("BUILDKITE_BUILD_ID",),
        ("BUILDKITE_BRANCH",),
        ("BUILDKITE_COMMIT",),
        ("BUILDKITE_PULL_REQUEST",),
        _var("BUILDKITE_BUILD_URL"),
    ),
    Provider(
        "bitbucket-pipelines",
        _is("BITBUCKET_BUILD_NUMBER"),
        ("BITBUCKET_BUILD_NUMBER",),
        ("BITBUCKET_BRANCH",),
        ("BITBUCKET_COMMIT",),
        ("BITBUCKET_PR_ID",),
        _bitbucket_url,
    ),
    Provider(
        "teamcity",
        _is("TEAMCITY_VERSION"),
        ("BUILD_NUMBER",),
        ("TEAMCITY_BUILD_BRANCH",),
        ("BUILD_VCS_NUMBER",),
        (),
    ),
    Provider(
        "appveyor",
        _is("APPVEYOR"),
        ("APPVEYOR_BUILD_ID",),
        ("APPVEYOR_PULL_REQUEST_HEAD_REPO_BRANCH", "APPVEYOR_REPO_BRANCH"),
        ("APPVEYOR_REPO_COMMIT",),
        ("APPVEYOR_PULL_REQUEST_NUMBER",),
        _appveyor_url,
    ),
    Provider(
        "woodpecker",
        _is_woodpecker,
        ("CI_PIPELINE_NUMBER",),
        ("CI_COMMIT_SOURCE_BRANCH", "CI_COMMIT_BRANCH"),
        ("CI_COMMIT_SHA",),
        ("CI_COMMIT_PULL_REQUEST",),
        _var("CI_PIPELINE_URL"),
    ),
    Provider(
        "drone",
        _is("DRONE"),
        ("DRONE_BUILD_NUMBER",),
        ("DRONE_SOURCE_BRANCH", "DRONE_BRANCH"),
        ("DRONE_COMMIT_SHA", "DRONE_COMMIT"),
        ("DRONE_PULL_REQUEST",),
        _var("DRONE_BUILD_LINK"),
    ),
    Provider(
        "semaphore",
        _is("SEMAPHORE"),
        ("SEMAPHORE_JOB_ID", "SEMAPHORE_WORKFLOW_ID"),
        ("SEMAPHORE_GIT_PR_BRANCH", "SEMAPHORE_GIT_BRANCH"),
        ("SEMAPHORE_GIT_SHA",),
        ("SEMAPHORE_GIT_PR_NUMBER",),
        _semaphore_url,
    ),
    Provider(
        "jenkins",
        lambda env: truthy(env.get("JENKINS_URL")) or truthy(env.get("JENKINS_HOME")),
        ("BUILD_ID", "BUILD_NUMBER"),
        ("CHANGE_BRANCH", "BRANCH_NAME", "GIT_BRANCH"),
        ("GIT_COMMIT",),
        ("CHANGE_ID",),
        _var("BUILD_URL"),
    ),
    Provider("generic", _is("CI")),
)

_PR_NUMBER = re.compile(r"(\d+)/?$")
_GITHUB_PR_REF = re.compile(r"^refs/pull/(\d+)/")


def detect_ci(env: Env) -> CiInfo | None:
    """The CI service running us, or None when no known CI variable says so."""
    for provider in PROVIDERS:
        if provider.detect(env):
            return {
                "provider": provider.name,
                "build_id": first(env, *provider.build_id),
                "build_url": provider.build_url(env),
                "branch": _branch(first(env, *provider.branch)),
                "commit": first(env, *provider.commit),
                "pr": _pr(env, provider),
            }
    return None


def _branch(value: str | None) -> str | None:
    """`refs/heads/main` and `origin/main` (Jenkins, Azure) both mean `main`."""
    if value is None:
        return None
    for prefix in ("refs/heads/", "origin/"):
        if value.startswith(prefix):
            return value[len(prefix) :]
    return value


def _pr(env: Env, provider: Provider) -> str | None:
    if provider.name == "github-actions":
        match = _GITHUB_PR_REF.match(env.get("GITHUB_REF", ""))
        return match.group(1) if match else None
    value = first(env, *provider.pr)
    if value is None:
        return None
    match = _PR_NUMBER.search(value)  # CircleCI gives a URL ending in the number
    return match.group(1) if match else value
