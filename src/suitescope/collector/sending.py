"""Consent to send, and the sending of a finished run: in a background thread, within a deadline, spooled
when it cannot be sent, and said in one summary line.

Nothing leaves the machine unless recording is on *and* a server URL (`--suitescope-url`, ini
`suitescope_url`, `SUITESCOPE_URL`) *and* a token (`SUITESCOPE_TOKEN`, only from the environment) are given;
`DO_NOT_TRACK=1` or `SUITESCOPE_SEND=0` stop it whatever else says. Only the process that writes the run sends
it (xdist workers and Django's parallel workers hand their records to it and never send anything).
"""

from __future__ import annotations

import gzip
import os
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from suitescope.collector.privacy import Anonymity, PrivacyPolicy, Redactor, user_key
from suitescope.schema.codec import dumps, read_ndjson
from suitescope.sinks.http import Delivery, post_run
from suitescope.sinks.spool import Spool, default_spool_dir

DEADLINE_S = 3.0
ANONYMITIES: tuple[Anonymity, ...] = ("named", "anonymous", "keep-vendor")
TOKEN_LIKE = re.compile(r"(?i)suitescope_token\s*[=:]|\bsst_[A-Za-z0-9_-]{20,}")


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
    if TOKEN_LIKE.search(text):
        return f"suitescope: {path.name} seems to hold a token: tokens belong in SUITESCOPE_TOKEN, not in files"
    return None


def payload_of(path: Path, policy: PrivacyPolicy) -> tuple[str, bytes, int]:
    """(run_id, gzipped NDJSON payload, tests) of a run file: exactly what is sent, previewed or spooled."""
    records = read_ndjson(path).records
    payload = policy.payload(records)  # type: ignore[arg-type]
    runs = [r for r in payload if r.get("kind") == "run"]
    run_id = str(runs[-1]["run_id"]) if runs else path.name.split(".")[0]
    tests = int(runs[-1]["tests"]) if runs else 0
    return run_id, gzip.compress(dumps(payload).encode(), compresslevel=6), tests  # type: ignore[arg-type]


def policy_for(settings: SendSettings, root: Path) -> PrivacyPolicy:
    return PrivacyPolicy(settings.anonymity, user_key(), Redactor(root=str(root), extra=settings.redact))


class RunSender:
    """Sends one finished run in a thread started as soon as the run file is closed (so sending overlaps the
    terminal summary); `wait()` gives the thread what is left of the deadline and says what happened."""

    def __init__(self, settings: SendSettings, run_file: Path, root: Path) -> None:
        self.settings = settings
        self.run_file = run_file
        self.root = root
        self.spool = Spool(settings.spool_dir)
        self.deadline = time.monotonic() + settings.deadline_s
        self.prepared: tuple[str, bytes, int] | None = None
        self.outcome: str | None = None
        self.thread = threading.Thread(target=self._run, name="suitescope-sender", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def wait(self) -> str:
        """The summary line, at the deadline at the latest; what was not sent by then is spooled."""
        self.thread.join(max(0.0, self.deadline - time.monotonic()))
        if self.outcome is not None:
            return self.outcome
        if self.prepared is None:
            return "suitescope: run not sent (timeout while preparing it)"
        return self._spooled(Delivery(False, "timeout"))

    def _run(self) -> None:
        try:
            self.prepared = payload_of(self.run_file, policy_for(self.settings, self.root))
            if self.settings.dry_run:
                self.outcome = self._dry_run()
                return
            run_id, body, tests = self.prepared
            delivery = self._post(body, run_id)
            if delivery.accepted:
                self.outcome = f"suitescope: run sent to {self.settings.url} ({tests:,} tests)" + self._send_spool()
            else:
                self.outcome = self._spooled(delivery)
        except Exception as exc:  # never the suite's problem: one line, and the local file is still there
            reason = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
            if self.prepared is not None:
                self.outcome = self._spooled(Delivery(False, reason))
            else:
                self.outcome = f"suitescope: run not sent ({reason})"

    def _post(self, body: bytes, run_id: str) -> Delivery:
        return post_run(self.settings.url or "", self.settings.token or "", body, run_id, self.deadline)

    def _dry_run(self) -> str:
        assert self.prepared is not None
        _run_id, body, tests = self.prepared
        target = self.run_file.with_name(self.run_file.name.replace(".ndjson", ".payload.ndjson"))
        target.write_bytes(gzip.decompress(body))
        return f"suitescope: dry run, nothing sent; the payload ({tests:,} tests) is in {target}"

    def _spooled(self, delivery: Delivery) -> str:
        assert self.prepared is not None
        run_id, body, _tests = self.prepared
        try:
            self.spool.put(run_id, body)
        except OSError as exc:
            return f"suitescope: run not sent ({delivery.reason}), and not spooled either ({exc.strerror or exc})"
        return f"suitescope: run not sent ({delivery.reason}); spooled, `suitescope upload` to retry"

    def _send_spool(self) -> str:
        """Reports left by earlier runs, while the deadline allows; how many went, for the summary line."""
        sent = 0
        for path in self.spool.pending():
            if time.monotonic() >= self.deadline - 0.2:
                break
            if self._post(path.read_bytes(), path.name.split(".")[0]).accepted:
                self.spool.remove(path)
                sent += 1
        return f", and {sent} spooled run{'s' * (sent != 1)}" if sent else ""
