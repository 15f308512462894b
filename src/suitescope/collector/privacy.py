"""What may leave the machine: a run's records anonymised and redacted into the payload a server receives.

The local `.telemetry` files stay as recorded (they never leave the machine); `payload()` makes the copy that is
sent, previewed (`suitescope preview`) or written by `--suitescope-dry-run`, so the three are the same bytes.

- **Anonymity**: a project is anonymous unless named on purpose (`--suitescope-project`, or its pyproject name
  when `suitescope_project_from_pyproject = true`). Its name is then a pseudonym, an HMAC-SHA256 of the name
  with a key kept in the user's config directory and never sent: the same project gives the same pseudonym run
  after run, and nobody without the key can test a guess. `keep-vendor` keeps `vendor/` and hashes the name.
  Anonymous runs also lose what would name them again: the CI build URL, and the commit and branch (hashed
  with the same key, so runs of one commit still group).
- **Redaction**, for every run: tokens (bearer, AWS, GitHub, Slack, Stripe, Google, JWT, private keys, our
  own), `password=`-style assignments, e-mail addresses, URL query strings and user info, the user's name,
  the host's name and paths outside the project (home directory included), in failure messages, skip reasons, SQL,
  query parameters, URLs, test names and parameters. Extra patterns come from the user (ini
  `suitescope_redact`, one regular expression per line).
- The host fingerprint becomes a keyed hash too (an unkeyed hash of a host name can be looked up).

Standard library only: it runs in the test process.
"""

from __future__ import annotations

import copy
import getpass
import hashlib
import hmac
import os
import re
import secrets
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

REDACTED = "[redacted]"
Anonymity = Literal["named", "anonymous", "keep-vendor"]

# (what it finds, pattern, replacement). Order matters: whole secrets before the generic `key=value` rule, URLs'
# user info and query strings before e-mail addresses (`user@host` inside a URL is user info).
_RULES: list[tuple[str, str, str]] = [
    ("private key", r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)", REDACTED),
    ("jwt", r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]+", REDACTED),
    ("aws access key id", r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA)[0-9A-Z]{16}\b", REDACTED),
    ("github token", r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{20,})", REDACTED),
    ("slack token", r"\bxox[abposr]-[A-Za-z0-9-]{10,}", REDACTED),
    ("slack webhook", r"https://hooks\.slack\.com/services/[A-Za-z0-9/]+", REDACTED),
    ("stripe key", r"\b[rsp]k_(?:live|test)_[A-Za-z0-9]{10,}", REDACTED),
    ("google api key", r"\bAIza[0-9A-Za-z_-]{30,}", REDACTED),
    ("suitescope token", r"\bsst_[A-Za-z0-9_-]{20,}", REDACTED),
    ("bearer", r"(?i)\b(bearer|token|basic)(\s+)[A-Za-z0-9._~+/=-]{8,}", rf"\1\2{REDACTED}"),
    ("url user info", r"(?i)\b([a-z][a-z0-9+.-]*://)(?:[^\s/@:]+(?::[^\s/@]*)?|:[^\s/@]+)@", rf"\1{REDACTED}@"),
    ("url query", r"(?i)\b((?:https?|wss?|ftp)://[^\s?#'\"<>]+)\?[^\s#'\"<>]*", rf"\1?{REDACTED}"),
    (
        "secret assignment",
        r"(?i)\b([\w-]*(?:password|passwd|pwd|secret|api[_-]?key|apikey|access[_-]?key|auth[_-]?token|"
        r"access[_-]?token|refresh[_-]?token|private[_-]?key|credentials?|token)[\w-]*)"
        r"(\s*[:=]\s*|['\"]\s*:\s*)(['\"]?)[^\s'\",;&)}\]]+",
        rf"\1\2\3{REDACTED}",
    ),
    ("e-mail address", r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b", "[email]"),
]
# Account and host names that say nothing about a person, and would wreck test names if replaced everywhere.
GENERIC_NAMES = frozenset(
    {
        "root",
        "admin",
        "user",
        "test",
        "tests",
        "runner",
        "ubuntu",
        "debian",
        "ci",
        "build",
        "builder",
        "jenkins",
        "vagrant",
        "docker",
        "app",
        "localhost",
        "runneradmin",
        "circleci",
        "gitlab-runner",
        "buildkite-agent",
    }
)
_PATH = re.compile(r"(?<![\w.~:/-])/(?:[\w.@+-]+/)+[\w.@+-]*")  # not inside a URL (after `:` or `/`)


@dataclass
class Redactor:
    """Removes secrets and personal data from text; `extra` are the user's own patterns."""

    root: str = ""
    extra: tuple[str, ...] = ()
    user: str = field(default_factory=lambda: _safe(getpass.getuser))
    host: str = field(default_factory=lambda: _safe(socket.gethostname))

    def __post_init__(self) -> None:
        self.rules = [(re.compile(pattern), replacement) for _name, pattern, replacement in _RULES]
        self.rules += [(re.compile(pattern), REDACTED) for pattern in self.extra]
        names = [
            (name, label)
            for name, label in ((self.user, "[user]"), (self.host, "[host]"))
            if len(name) >= 3 and name.lower() not in GENERIC_NAMES
        ]
        self.names = [(re.compile(rf"(?i)(?<![A-Za-z0-9]){re.escape(n)}(?![A-Za-z0-9])"), label) for n, label in names]

    def __call__(self, text: str) -> str:
        for pattern, replacement in self.rules:
            text = pattern.sub(replacement, text)
        text = self.paths(text)
        for pattern, label in self.names:
            text = pattern.sub(label, text)
        return text

    def paths(self, text: str) -> str:
        """The project's own paths made relative, any other absolute path cut to its last part (`.../name`):
        where a file lives outside the project (a home directory, a company's folders) says who you are."""
        if self.root:
            text = text.replace(self.root.rstrip("/") + "/", "")
        return _PATH.sub(lambda m: ".../" + m.group(0).rstrip("/").rsplit("/", 1)[-1], text)


def _safe(read: Callable[[], str]) -> str:
    try:
        return read()
    except Exception:  # no user name in a container, no host name: nothing to look for
        return ""


def user_key(config_dir: Path | None = None) -> bytes:
    """The key of the pseudonyms: 32 random bytes in the user's config directory, made on first use (0600).
    Never sent. Without a writable directory, a key for this run only (its pseudonyms will not correlate)."""
    directory = config_dir or _config_dir()
    path = directory / "key"
    try:
        return bytes.fromhex(path.read_text().strip())
    except (OSError, ValueError):
        pass
    key = secrets.token_bytes(32)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(key.hex())
    except FileExistsError:  # another process made it meanwhile: use theirs
        return bytes.fromhex(path.read_text().strip())
    except OSError:
        pass
    return key


def _config_dir() -> Path:
    if os.name == "nt":
        return Path(os.environ.get("APPDATA", Path.home())) / "suitescope"
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "suitescope"


def pseudonym(key: bytes, value: str, prefix: str = "anon-") -> str:
    return prefix + hmac.new(key, value.encode(), hashlib.sha256).hexdigest()[:16]


@dataclass
class PrivacyPolicy:
    """How one run's records become the payload: who the project is, and what to remove."""

    anonymity: Anonymity
    key: bytes
    redact: Redactor

    def payload(self, records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        """A transformed copy of the records; the originals are not changed."""
        return [self.run(r) if r.get("kind") == "run" else self.test(r) for r in copy.deepcopy(list(records))]

    def run(self, run: dict[str, Any]) -> dict[str, Any]:
        name = f"{run['vendor']}/{run['project']}" if run.get("vendor") and run.get("project") else run.get("project")
        if self.anonymity == "anonymous":
            run["project"] = pseudonym(self.key, name) if name else None
            run["vendor"] = None
        elif self.anonymity == "keep-vendor":
            run["project"] = pseudonym(self.key, name) if name else None
        env = run.get("environment") or {}
        if env.get("host"):
            env["host"] = pseudonym(self.key, env["host"], prefix="")
        if self.anonymity != "named":
            self._anonymous_sources(env)
        return run

    def _anonymous_sources(self, env: dict[str, Any]) -> None:
        """What would name an anonymous project again: the CI build URL; commit and branch, hashed."""
        for source in (env.get("ci"), env.get("git")):
            if not source:
                continue
            if "build_url" in source:
                source["build_url"] = None
            for key in ("commit", "branch", "pr"):
                if source.get(key):
                    source[key] = pseudonym(self.key, str(source[key]), prefix="")

    def test(self, test: dict[str, Any]) -> dict[str, Any]:
        r = self.redact
        for key in ("id", "name", "reason"):
            if test.get(key):
                test[key] = r(test[key])
        if test.get("params"):
            test["params"] = {k: r(str(v)) for k, v in test["params"].items()}
        failure = test.get("failure")
        if failure:
            failure["message"] = r(failure["message"])
        for query in test.get("db_queries") or ():
            query["sql"] = r(query["sql"])
            if query.get("params"):
                query["params"] = [r(str(p)) for p in query["params"]]
        for finding in (test.get("db") or {}).get("n_plus_one") or ():
            finding["sql"] = r(finding["sql"])
        for call in test.get("network") or ():
            if call.get("url"):
                call["url"] = r(call["url"])
        if test.get("net_urls"):
            test["net_urls"] = [r(url) for url in test["net_urls"]]
        return test
