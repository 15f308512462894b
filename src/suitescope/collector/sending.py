"""The sending of a finished run: in a background thread, within a deadline, spooled when it cannot be sent,
and said in one summary line. Imported only by a run that sends (`send_settings` says whether it does).

Only the process that writes the run sends it (xdist workers and Django's parallel workers hand their records
to it and never send anything).
"""

from __future__ import annotations

import gzip
import threading
import time
from pathlib import Path

from suitescope.collector.privacy import PrivacyPolicy, Redactor, user_key
from suitescope.collector.send_settings import SendSettings
from suitescope.schema.codec import dumps, read_ndjson
from suitescope.sinks.http import Delivery, post_run
from suitescope.sinks.spool import Spool


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
        return self._spooled(self.prepared, Delivery(False, "timeout"))

    def _run(self) -> None:
        try:
            self.prepared = prepared = payload_of(self.run_file, policy_for(self.settings, self.root))
            if self.settings.dry_run:
                self.outcome = self._dry_run(prepared)
                return
            run_id, body, tests = prepared
            delivery = self._post(body, run_id)
            if delivery.accepted:
                self.outcome = f"suitescope: run sent to {self.settings.url} ({tests:,} tests)" + self._send_spool()
            else:
                self.outcome = self._spooled(prepared, delivery)
        except Exception as exc:  # never the suite's problem: one line, and the local file is still there
            reason = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
            if self.prepared is not None:
                self.outcome = self._spooled(self.prepared, Delivery(False, reason))
            else:
                self.outcome = f"suitescope: run not sent ({reason})"

    def _post(self, body: bytes, run_id: str) -> Delivery:
        return post_run(self.settings.url or "", self.settings.token or "", body, run_id, self.deadline)

    def _dry_run(self, prepared: tuple[str, bytes, int]) -> str:
        _run_id, body, tests = prepared
        target = self.run_file.with_name(self.run_file.name.replace(".ndjson", ".payload.ndjson"))
        target.write_bytes(gzip.decompress(body))
        return f"suitescope: dry run, nothing sent; the payload ({tests:,} tests) is in {target}"

    def _spooled(self, prepared: tuple[str, bytes, int], delivery: Delivery) -> str:
        run_id, body, _tests = prepared
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
