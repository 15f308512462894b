"""One attempt of one test as it runs, and the test record it becomes: the part of turning a framework's events
into records that is the same for pytest, unittest and Django.

The adapters fill an `Attempt` from their own events (pytest's phase reports, unittest's result callbacks) and
hand it to an `AttemptEncoder` once it is over. `identity` holds what names the test (`name`, `class`, `module`, `file`,
`line`, `params`, `markers`, `worker`); what it lacks is derived from the id.
"""

from __future__ import annotations

import functools
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from suitescope.collector.fingerprint import describe_text, truncate
from suitescope.schema.codec import SCHEMA_VERSION, encode
from suitescope.schema.records import Failure, Phase, Status
from suitescope.schema.summary import DbFacts, Facts, db_facts, external, raised


def safe_repr(value: object) -> str:
    try:
        text = repr(value)
    except Exception:  # a user's __repr__ may raise; that is not our test to fail
        text = f"<{type(value).__name__}>"
    return text if len(text) <= PARAM_LIMIT else truncate(text, PARAM_LIMIT)  # most are short: no second call


def relative_file(path: str, real_root: str) -> str:
    """The real path of a test file relative to the real root (symlinks resolved), `/`-separated; callers cache
    it per module or class."""
    real = os.path.realpath(path)
    try:
        return Path(os.path.relpath(real, real_root)).as_posix()
    except ValueError:  # another drive on Windows
        return Path(real).as_posix()


def utc_iso(epoch_s: float) -> str:
    """`2026-11-22T17:44:02.250986Z`. Called twice per test: the date part is formatted once per second."""
    whole = int(epoch_s)
    micro = round((epoch_s - whole) * 1_000_000)  # rounded as datetime.fromtimestamp rounds
    if micro == 1_000_000:
        whole, micro = whole + 1, 0
    return f"{_utc_second(whole)}.{micro:06d}Z"


@functools.lru_cache(maxsize=8)
def _utc_second(whole: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole))


# The record fields of an attempt when no instrument ran (shared, never written to);
# here, not with the instruments, so that a run without them never imports them.
NO_EFFECTS: dict[str, Any] = {
    "db": None,
    "db_queries": None,
    "network": None,
    "net_urls": None,
    "memory": None,
    "cpu": None,
}


PARAM_LIMIT = 200
INTERRUPTED = describe_text("Interrupted", "the run stopped during this test", "")  # the failure of a Ctrl-C


# An attempt's instrument fields already written: the inside of their JSON object, and the tally's facts of its
# db and network fields (what `LazyEffects.encoded` gives).
EncodedEffects = tuple[str, "DbFacts | None", "bool | None"]
# The same for an attempt that made no query and no connection, with its memory readings (start and end: RSS,
# high-water mark, user and system CPU) still to be written by `memory.rss_json` in its batch. Only numbers and
# strings: the garbage collector stops tracking such a tuple at its first look, so it costs nothing to keep.
QuietEffects = tuple[str, "DbFacts | None", "bool | None", tuple[Any, ...], tuple[Any, ...]]


class LazyEffects(Protocol):
    """The instruments' readings of an attempt, made into its record fields only when it is encoded."""

    def fields(self) -> dict[str, Any]: ...

    def encoded(self) -> tuple[str, DbFacts | None, bool | None]:
        """The JSON of `fields()` without its braces, with the tally's facts of its db and network fields."""
        ...


class Attempt:
    """One attempt of one test while its phase reports arrive (slots: thousands are made per run)."""

    __slots__ = (
        "attempt",
        "call_ms",
        "effects",
        "failed_asserts",
        "failure",
        "final",
        "identity",
        "nodeid",
        "passed_asserts",
        "reason",
        "setup_ms",
        "start",
        "status",
        "stop",
        "teardown_ms",
        "when",
        "worker",
    )

    def __init__(self, nodeid: str, start: float | None, worker: str | None, attempt: int) -> None:
        self.nodeid = nodeid
        self.start = start
        self.worker = worker
        self.attempt = attempt
        self.identity: dict[str, Any] = {}
        self.status: Status = "passed"
        self.when: Phase | None = None
        self.failure: Failure | None = None
        self.reason: str | None = None
        self.final = True
        self.stop: float | None = None
        # Milliseconds, as measured: the encoder rounds them to the microsecond (rounding here would be paid
        # twice, once more to write them).
        self.setup_ms: float | None = None
        self.call_ms: float | None = None
        self.teardown_ms: float | None = None
        self.passed_asserts: int | None = None  # None: not counted (pytest without the assertion pass hook)
        self.failed_asserts = 0
        self.effects: dict[str, Any] | LazyEffects | EncodedEffects | QuietEffects = NO_EFFECTS

    def fail(self, status: Status, when: Phase, failure: Failure | None) -> None:
        """The first failure of an attempt decides its status; later ones do not overwrite it."""
        if self.status in ("passed", "xpassed"):
            self.status, self.when, self.failure = status, when, failure


class AttemptEncoder:
    """Turns finished attempts of one run into NDJSON lines, and the facts its tally counts.

    The line is what `to_json` would write for the attempt's `TestRecord`, formatted straight from the attempt:
    the record is never built as a dict, and only the strings and the nested parts (params, failure, the
    instruments' fields) go through the standard library's C encoder. Encoding is the largest part of what
    recording costs per test, and this takes a third of the time of building the dict and encoding it
    (`tests/collector/test_attempt_encoder.py` holds it to the record's schema and to `facts`).
    """

    def __init__(self, run_id: str) -> None:
        self.head = f'{{"schema_version":"{SCHEMA_VERSION}","kind":"test","run_id":{_text(run_id)},"id":'
        self.second = -1  # the whole second of the last time written, and its text
        self.second_text = ""

    def quoted_time(self, epoch_s: float) -> str:
        """`utc_iso` as a JSON string. Most attempts start and end in the second the last one ended in: its
        text is kept, where `utc_iso` looks it up in a cache (a fifth of the time of a timestamp)."""
        whole = int(epoch_s)
        micro = round((epoch_s - whole) * 1_000_000)  # as utc_iso rounds
        if whole == self.second and micro < 1_000_000:
            return f'"{self.second_text}.{micro:06d}Z"'
        self.second, self.second_text = whole, _utc_second(whole)
        return f'"{utc_iso(epoch_s)}"'

    def __call__(self, attempt: Attempt) -> tuple[str, Facts]:
        ident = attempt.identity
        nodeid = attempt.nodeid
        setup, call, teardown = attempt.setup_ms, attempt.call_ms, attempt.teardown_ms
        duration = _MS % ((setup or 0.0) + (call or 0.0) + (teardown or 0.0))
        module, cls = ident.get("module"), ident.get("class")
        passed, failed = attempt.passed_asserts, attempt.failed_asserts
        failure, status, when, final = attempt.failure, attempt.status, attempt.when, attempt.final
        effects = attempt.effects
        if effects is NO_EFFECTS:
            tail, db, external_net = NO_EFFECTS_JSON, None, None
        else:
            if isinstance(effects, tuple):  # written when the attempt ended, or all but its memory fields
                fields, db, external_net = effects if len(effects) == 3 else write_quiet(effects)
            elif isinstance(effects, dict):
                fields, db, external_net = _encoded(effects)
            else:
                fields, db, external_net = effects.encoded()
            tail = f",{fields}}}"
        params, markers, line_no = ident.get("params"), ident.get("markers"), ident.get("line")
        start, stop = attempt.start, attempt.stop
        line = "".join(
            (
                self.head,
                _STRING(nodeid),
                ',"name":',
                _STRING(ident.get("name") or nodeid.rpartition("::")[2]),
                ',"class":',
                "null" if cls is None else _STRING(cls),
                ',"module":',
                "null" if module is None else _STRING(module),
                ',"file":',
                _STRING(ident.get("file") or nodeid.partition("::")[0]),
                ',"line":',
                "null" if line_no is None else str(line_no),
                ',"params":',
                "null" if params is None else encode(params),
                ',"status":"',
                status,
                '","when":',
                "null" if when is None else f'"{when}"',
                ',"start_time":',
                self.quoted_time(start) if start else "null",
                ',"end_time":',
                self.quoted_time(stop) if stop else "null",
                ',"duration_ms":',
                duration,
                ',"phases":{"setup_ms":',
                "null" if setup is None else _MS % setup,
                ',"call_ms":',
                "null" if call is None else _MS % call,
                ',"teardown_ms":',
                "null" if teardown is None else _MS % teardown,
                '},"worker":',
                _text(ident.get("worker", attempt.worker)),
                ',"attempt":',
                "1" if attempt.attempt == 1 else str(attempt.attempt),  # "1": a third of the time of str()
                ',"final":',
                "true" if final else "false",
                ',"assertions":{"passed":',
                "null" if passed is None else str(passed),
                ',"failed":',
                "0" if failed == 0 else str(failed),
                '},"failure":',
                "null" if failure is None else encode(failure),
                ',"reason":',
                _text(truncate(attempt.reason) if attempt.reason else None),
                ',"markers":',
                encode(markers) if markers else "[]",
                tail,  # the six instrument fields, in the schema's order as `Instruments.end` gives them
            )
        )
        facts: Facts = (
            nodeid,
            status,
            when,
            final,
            float(duration),  # as the line has it: a tally rebuilt from the file gives the same sums
            passed,
            failed,
            failure is not None and raised(status, failure),
            module,
            cls,
            db,
            external_net,
        )
        return line, facts


# The end of a line whose attempt ran no instrument (the same keys, in the same order, as `NO_EFFECTS`).
NO_EFFECTS_JSON = f",{encode(NO_EFFECTS)[1:]}"
# The standard library's C function that writes a str as a JSON string, non-ASCII kept (as `to_json` writes).
_STRING: Callable[[str], str] = json.encoder.encode_basestring


def _encoded(effects: dict[str, Any]) -> tuple[str, DbFacts | None, bool | None]:
    """`LazyEffects.encoded` of instrument fields given as a dict."""
    db, network = effects["db"], effects["network"]
    return encode(effects)[1:-1], None if db is None else db_facts(db), None if network is None else external(network)


def write_quiet(effects: QuietEffects) -> EncodedEffects:
    """`QuietEffects` written out. The memory instrument's module is imported by the first call, not at the top:
    a run without instruments never makes such effects, and never loads it."""
    global _rss_json
    if _rss_json is None:
        from suitescope.collector.instrument.memory import rss_json

        _rss_json = rss_json
    fields, db, external_net, start, end = effects
    return f"{fields},{_rss_json(start, end)}", db, external_net


_rss_json: Callable[[tuple[Any, ...], tuple[Any, ...]], str] | None = None


def _text(value: str | None) -> str:
    return "null" if value is None else _STRING(value)


# Milliseconds to the microsecond: one C call rounds and writes them ("%.3f" rounds as `round(ms, 3)` does, and
# costs a third of `repr(round(ms, 3))`); the trailing zeros it keeps ("2.500") read back as the same number.
_MS = "%.3f"
