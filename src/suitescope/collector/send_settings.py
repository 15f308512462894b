"""Whether to send a run, and how: the settings read from options, ini and environment when a run starts.

Nothing leaves the machine unless recording is on *and* a server URL (`--suitescope-url`, ini
`suitescope_url`, `SUITESCOPE_URL`) *and* a token (`SUITESCOPE_TOKEN`, only from the environment) are given;
`DO_NOT_TRACK=1` or `SUITESCOPE_SEND=0` stop it whatever else says. Apart from `sending`, which does the
sending: every recorded run reads these settings, and only a run that sends needs an HTTP client (whose
imports, TLS included, cost more than the rest of the collector's start).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from suitescope.sinks.spool import default_spool_dir

if TYPE_CHECKING:
    from suitescope.collector.privacy import Anonymity

DEADLINE_S = 3.0
ANONYMITIES: tuple[Anonymity, ...] = ("named", "anonymous", "keep-vendor")
TOKEN_LIKE = r"(?i)suitescope_token\s*[=:]|\bsst_[A-Za-z0-9_-]{20,}"  # compiled when a run that sends ends


@dataclass(frozen=True)
class SendSettings:
    url: str | None
    token: str | None
    anonymity: Anonymity
    dry_run: bool = False
    off_by: str | None = None  # "DO_NOT_TRACK=1" or "SUITESCOPE_SEND=0" when one of them stops sending
    redact: tuple[str, ...] = ()
    deadline_s: float = DEADLINE_S
    spool_dir: Path = field(default_factory=default_spool_dir)

    @property
    def sending(self) -> bool:
        return bool(self.url and self.token and not self.off_by and not self.dry_run)

    @property
    def active(self) -> bool:
        """Something to do at the end of the run: send, or write the dry run's payload."""
        return self.sending or self.dry_run


def send_settings(
    url: str | None,
    named: bool,
    anonymity: str | None = None,
    dry_run: bool = False,
    redact: tuple[str, ...] = (),
    deadline: str | float = DEADLINE_S,
    environ: Any = os.environ,
) -> SendSettings:
    """From options already read (url: option, then ini, then SUITESCOPE_URL): ValueError names a bad value."""
    url = url or environ.get("SUITESCOPE_URL") or None
    if url is not None and not re.match(r"(?i)^https?://[^/\s]+", url):
        raise ValueError(f"--suitescope-url {url!r} is not an http(s) URL")
    if anonymity is not None and anonymity not in ANONYMITIES:
        raise ValueError(f"--suitescope-anonymity {anonymity!r}: use one of {', '.join(ANONYMITIES)}")
    for pattern in redact:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"suitescope_redact pattern {pattern!r} is not a regular expression: {exc}") from None
    off_by = None
    if environ.get("DO_NOT_TRACK", "").strip() not in ("", "0"):
        off_by = "DO_NOT_TRACK=1"
    elif environ.get("SUITESCOPE_SEND", "").strip().lower() in ("0", "false", "no", "off"):
        off_by = "SUITESCOPE_SEND=0"
    try:
        deadline_s = float(deadline)
    except ValueError:
        raise ValueError(f"suitescope_send_deadline {deadline!r} is not a number of seconds") from None
    if not 0 < deadline_s <= 60:
        raise ValueError(f"suitescope_send_deadline {deadline_s} is out of range: 0 to 60 seconds")
    chosen: Anonymity = anonymity or ("named" if named else "anonymous")
    return SendSettings(url, environ.get("SUITESCOPE_TOKEN") or None, chosen, dry_run, off_by, redact, deadline_s)


def token_in_config(path: Path | None) -> str | None:
    """A summary line when a token seems to sit in a config file (committed ones are read by everyone)."""
    if path is None:
        return None
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return None
    if re.search(TOKEN_LIKE, text):
        return f"suitescope: {path.name} seems to hold a token: tokens belong in SUITESCOPE_TOKEN, not in files"
    return None
