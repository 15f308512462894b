"""Send one report to a suitescope server, within a deadline, never longer.

Standard library only (it runs in the test process): one POST of gzipped NDJSON to `/api/v1/runs`, with a
connect/read timeout cut to what is left of the deadline. 429 (after its Retry-After, when that fits) and 5xx
answers, refused or dropped connections are tried again while time remains; other 4xx are final (sending the
same bytes again cannot help). Redirects are not followed: a report is posted where it was told to go, and a
redirect loop costs one request.
"""

from __future__ import annotations

import gzip
import http.client
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from email.message import Message

USER_AGENT = "suitescope-collector"
RETRY_PAUSE_S = 0.25


@dataclass(frozen=True)
class Delivery:
    """How a send ended: `accepted`, or why not (`reason`, short, for the summary line)."""

    accepted: bool
    reason: str
    status: int | None = None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None  # urllib then raises HTTPError with the 3xx status


_OPENER = urllib.request.build_opener(_NoRedirect)


def runs_url(server: str) -> str:
    return server.rstrip("/") + "/api/v1/runs"


PART_BYTES = 4 * 1024 * 1024  # a run whose payload is larger, gzipped, is sent in parts of about this size


def post_run(
    server: str, token: str, body: bytes, run_id: str, deadline: float, part_bytes: int = PART_BYTES
) -> Delivery:
    """Send a run's gzipped NDJSON: in one request, or, when larger than `part_bytes`, in parts the server puts
    back together (each its own request, retried on its own; the run is accepted once every part is)."""
    if len(body) <= part_bytes:
        return post_report(server, token, body, deadline)
    lines = gzip.decompress(body).splitlines(keepends=True)
    count = min(len(lines), -(-len(body) // part_bytes))
    size = -(-len(lines) // count)
    pieces = [lines[start : start + size] for start in range(0, len(lines), size)]
    for number, piece in enumerate(pieces, start=1):
        query = urllib.parse.urlencode({"run_id": run_id, "part": number, "parts": len(pieces)})
        delivery = post_report(server, token, gzip.compress(b"".join(piece), compresslevel=6), deadline, query=query)
        if not delivery.accepted:
            return Delivery(False, f"part {number} of {len(pieces)}: {delivery.reason}", delivery.status)
    return delivery


def post_report(
    server: str, token: str, body: bytes, deadline: float, timeout: float = 2.0, query: str = ""
) -> Delivery:
    """POST `body` (gzipped NDJSON) until accepted, refused for good, or `deadline` (time.monotonic()) passes."""
    last = Delivery(False, "timeout")
    while (left := deadline - time.monotonic()) > 0.05:
        last, retry_after = _attempt(server, token, body, min(timeout, left), query)
        if last.accepted or retry_after is None:
            return last
        pause = max(retry_after, RETRY_PAUSE_S)
        if time.monotonic() + pause >= deadline:
            return last
        time.sleep(pause)
    return last


def _attempt(server: str, token: str, body: bytes, timeout: float, query: str) -> tuple[Delivery, float | None]:
    """One request: the delivery, and after how long trying again could help (None: it cannot)."""
    request = urllib.request.Request(
        runs_url(server) + (f"?{query}" if query else ""),
        data=body,
        method="POST",
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/x-ndjson",
            "Content-Encoding": "gzip",
            "User-Agent": USER_AGENT,
        },
    )
    try:
        with _OPENER.open(request, timeout=timeout) as answer:
            answer.read(64 * 1024)
            return Delivery(answer.status in (200, 201, 202), f"HTTP {answer.status}", answer.status), None
    except urllib.error.HTTPError as exc:
        exc.close()
        return _refused(exc.code, exc.headers)
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, socket.gaierror):
            return Delivery(False, "unknown host"), None
        return Delivery(False, _short(reason)), 0.0
    except (OSError, ValueError, http.client.HTTPException) as exc:  # timeouts, resets, garbage instead of HTTP
        return Delivery(False, _short(exc)), 0.0


def _refused(status: int, headers: Message | None) -> tuple[Delivery, float | None]:
    if status == 429:
        return Delivery(False, "rate limited (429)", status), _retry_after(headers)
    if status >= 500:
        return Delivery(False, f"server error ({status})", status), 0.0
    if 300 <= status < 400:
        return Delivery(False, f"redirected ({status}), not followed", status), None
    reasons = {401: "token refused (401)", 403: "token may not write here (403)", 413: "too large (413)"}
    return Delivery(False, reasons.get(status, f"refused ({status})"), status), None


def _retry_after(headers: Message | None) -> float:
    value = headers.get("Retry-After", "") if headers is not None else ""
    return float(value) if value.strip().isdigit() else 1.0


def _short(reason: object) -> str:
    if isinstance(reason, http.client.HTTPException):
        return f"not an HTTP answer ({type(reason).__name__})"
    text = (str(reason) or type(reason).__name__).splitlines()[0]
    if "timed out" in text:
        return "timeout"
    if "refused" in text.lower():
        return "connection refused"
    return text.split(":")[-1].strip()[:60] or type(reason).__name__
