"""The attempt encoder writes each test record without building it as a dict: hold its lines to the schema.

The reference here is the record as the schema describes it (records.TestRecord, docs/schema.md), built in the
test from the same attempt; the encoder's line must decode to exactly that, with the keys in schema order, and
its facts must be what `facts` derives from the decoded record (what a reader of the file would count).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from suitescope.collector.attempt import NO_EFFECTS, Attempt, AttemptEncoder, utc_iso, write_quiet
from suitescope.collector.fingerprint import truncate
from suitescope.collector.guard import Guard
from suitescope.collector.instrument.effects import TRACKER, Effects
from suitescope.collector.instrument.manager import Instruments
from suitescope.collector.instrument.memory import ProcessMemory, Sample
from suitescope.collector.instrument.options import instrument_options
from suitescope.schema import records
from suitescope.schema.codec import SCHEMA_VERSION, from_json
from suitescope.schema.summary import db_facts, facts

RUN_ID = "01a24fea-881a-7bb6-9f54-198642639e0c"
text = st.text(max_size=40)  # any Unicode but lone surrogates: quotes, backslashes, control characters, emoji
maybe_text = st.none() | text
millis = st.none() | st.floats(min_value=0, max_value=1e7, allow_nan=False)  # as measured: not rounded
failures = st.none() | st.fixed_dictionaries({"type": text, "message": text, "fingerprint": text})
calls = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(["connect", "http"]),
        "scheme": text,
        "host": maybe_text,
        "port": st.none() | st.integers(0, 65535),
        "url": maybe_text,
        "loopback": st.booleans(),
        "phase": st.sampled_from(["setup", "call", "teardown"]),
        "count": st.integers(1, 9),
    }
)
db = st.fixed_dictionaries(
    {
        "count": st.integers(0, 999),
        "duration_ms": st.floats(0, 1e5, allow_nan=False),
        "phases": st.fixed_dictionaries({"setup": st.integers(0, 9), "call": st.integers(0, 9)}),
        "n_plus_one": st.lists(st.fixed_dictionaries({"fingerprint": text, "sql": text, "count": st.integers()})),
        "shapes_dropped": st.integers(0, 9),
    }
)
effects = st.just(NO_EFFECTS) | st.fixed_dictionaries(
    {
        "db": st.none() | db,
        "db_queries": st.none() | st.just([]),
        "network": st.none() | st.lists(calls, max_size=3),
        "net_urls": st.none() | st.lists(text, max_size=3),
        "memory": st.none() | st.fixed_dictionaries({"rss_start_kb": st.integers(0), "growth_kb": st.integers()}),
        "cpu": st.none() | st.fixed_dictionaries({"user_ms": st.floats(0, 1e6), "system_ms": st.floats(0, 1e6)}),
    }
).map(lambda drawn: {key: drawn[key] for key in NO_EFFECTS})  # in the order Instruments.end gives them
identities = st.fixed_dictionaries(
    {},
    optional={
        "name": text,
        "class": maybe_text,
        "module": maybe_text,
        "file": text,
        "line": st.none() | st.integers(1, 10**6),
        "params": st.none() | st.dictionaries(text, text, max_size=3),
        "markers": st.lists(text, max_size=3),
        "worker": maybe_text,
    },
)


@st.composite
def attempts(draw: st.DrawFn) -> Attempt:
    attempt = Attempt(
        draw(text),
        draw(st.none() | st.floats(1e9, 4e9)),
        draw(maybe_text),
        draw(st.integers(1, 5)),
    )
    attempt.identity = draw(identities)
    attempt.status = draw(st.sampled_from(records.STATUSES))
    attempt.when = draw(st.none() | st.sampled_from(["setup", "call", "teardown", "collect", "subtest"]))
    attempt.failure = draw(failures)
    attempt.reason = draw(st.none() | st.text(max_size=1200))
    attempt.final = draw(st.booleans())
    attempt.stop = draw(st.none() | st.floats(1e9, 4e9))
    attempt.setup_ms, attempt.call_ms, attempt.teardown_ms = draw(millis), draw(millis), draw(millis)
    attempt.passed_asserts = draw(st.none() | st.integers(0, 10**6))
    attempt.failed_asserts = draw(st.integers(0, 99))
    attempt.effects = draw(effects)
    return attempt


def expected_record(attempt: Attempt) -> dict[str, Any]:
    """The record of an attempt, field by field as docs/schema.md defines it."""
    ident = attempt.identity
    phases = {"setup_ms": attempt.setup_ms, "call_ms": attempt.call_ms, "teardown_ms": attempt.teardown_ms}
    return {
        "schema_version": SCHEMA_VERSION,
        "kind": "test",
        "run_id": RUN_ID,
        "id": attempt.nodeid,
        "name": ident.get("name") or attempt.nodeid.rpartition("::")[2],
        "class": ident.get("class"),
        "module": ident.get("module"),
        "file": ident.get("file") or attempt.nodeid.partition("::")[0],
        "line": ident.get("line"),
        "params": ident.get("params"),
        "status": attempt.status,
        "when": attempt.when,
        "start_time": utc_iso(attempt.start) if attempt.start else None,
        "end_time": utc_iso(attempt.stop) if attempt.stop else None,
        "duration_ms": round(sum(v or 0.0 for v in phases.values()), 3),
        "phases": {key: None if ms is None else round(ms, 3) for key, ms in phases.items()},  # to the µs
        "worker": ident.get("worker", attempt.worker),
        "attempt": attempt.attempt,
        "final": attempt.final,
        "assertions": {"passed": attempt.passed_asserts, "failed": attempt.failed_asserts},
        "failure": attempt.failure,
        "reason": truncate(attempt.reason) if attempt.reason else None,
        "markers": ident.get("markers", []),
        **attempt.effects,
    }


@settings(max_examples=300)
@given(attempts())
def test_line_decodes_to_the_schema_record_and_its_facts(attempt: Attempt) -> None:
    line, fact = AttemptEncoder(RUN_ID)(attempt)
    assert "\n" not in line  # one record, one line: a newline in a name or message is escaped
    record = json.loads(line)
    assert list(record) == list(records.TestRecord.__annotations__)  # every key, in the schema's order
    assert record == expected_record(attempt)
    assert fact == facts(record)
    assert from_json(line) == record  # the codec that reads files takes it


def test_a_plain_passed_test_is_the_compact_json_of_its_record() -> None:
    attempt = Attempt('tests/test_a.py::test_é["x"]', 1_800_000_000.25, None, 1)
    attempt.identity = {"name": 'test_é["x"]', "module": "tests.test_a", "file": "tests/test_a.py", "line": 3}
    attempt.setup_ms, attempt.call_ms, attempt.teardown_ms = 0.125, 2.375, 0.0625  # the last one is rounded
    attempt.stop = 1_800_000_000.5
    line, _ = AttemptEncoder(RUN_ID)(attempt)
    expected = expected_record(attempt)
    assert line == json.dumps(expected, ensure_ascii=False, separators=(",", ":"))
    assert '"name":"test_é[\\"x\\"]"' in line
    assert '"duration_ms":2.562,"phases":{"setup_ms":0.125,"call_ms":2.375,"teardown_ms":0.062}' in line


def test_milliseconds_are_written_to_the_microsecond_with_their_zeros() -> None:
    """`%.3f` keeps trailing zeros: a reader gets the same number as from the shortest form."""
    attempt = Attempt("tests/test_a.py::test_b", None, None, 1)
    attempt.setup_ms, attempt.call_ms = 2.5, 1e-9
    line, fact = AttemptEncoder(RUN_ID)(attempt)
    assert '"duration_ms":2.500,"phases":{"setup_ms":2.500,"call_ms":0.000,"teardown_ms":null}' in line
    record = json.loads(line)
    assert record["phases"] == {"setup_ms": 2.5, "call_ms": 0.0, "teardown_ms": None}
    assert fact[4] == record["duration_ms"] == 2.5


def test_the_instruments_give_their_fields_in_the_schema_order() -> None:
    """The encoder writes the instruments' fields as one JSON object's inside: in the order they come, whether
    written as the attempt ends (no query, no connection) or kept as readings until it is encoded."""
    schema_order = list(records.TestRecord.__annotations__)[-6:]
    instruments = Instruments(Guard(), instrument_options("all", "5", "rss", False, False))
    try:
        instruments.begin()
        quiet = instruments.end()
        assert isinstance(quiet, tuple) and len(quiet) == 5  # memory readings to write in the batch
        assert list(json.loads("{" + write_quiet(quiet)[0] + "}")) == list(NO_EFFECTS) == schema_order
        instruments.begin()
        assert TRACKER.current is not None
        TRACKER.current.add_query("main", "SELECT 1", 0.001, None)
        ended = instruments.end()
        assert not isinstance(ended, (dict, tuple))  # readings, made into fields when the attempt is encoded
        assert list(ended.fields()) == schema_order
    finally:
        instruments.close()


samples = st.tuples(
    st.none() | st.integers(0, 10**8),
    st.none() | st.integers(0, 10**8),
    st.floats(0, 1e5, allow_nan=False),
    st.floats(0, 1e5, allow_nan=False),
)


@settings(max_examples=300)
@given(samples, samples, st.sampled_from([(None, None), (12.5, [{"site": "a.py:1", "size_kb": 1.5, "count": 2}])]))
def test_memory_is_written_as_its_fields_encode(start: Sample, end: Sample, traced: Any) -> None:
    """The one-format path of the common case (both RSS readings, nothing traced) and the dict path agree."""
    memory = ProcessMemory(Guard())
    memory.on = True
    written = json.loads("{" + memory.encoded((start, end, traced)) + "}")
    fields, cpu = memory.measure((start, end, traced))
    assert written == {"memory": fields, "cpu": cpu}


@pytest.mark.parametrize("queries", [0, 6])
def test_the_instruments_write_what_their_fields_say(queries: int) -> None:
    """A test with no query and no connection gets the same text every time; one with queries is encoded;
    either way the line says what `fields()` says, and the facts are those of the fields."""
    instruments = Instruments(Guard(), instrument_options("all", "5", "rss", False, False))
    try:
        instruments.begin()
        for _ in range(queries):
            assert TRACKER.current is not None
            TRACKER.current.add_query("main", "SELECT * FROM t WHERE id = 1", 0.001, None)
        memory = instruments.memory
        assert memory is not None
        readings: list[Any] = []
        real_end = memory.end
        memory.end = lambda: readings.append(real_end()) or readings[-1]  # type: ignore[method-assign]
        ended = instruments.end()
        if queries:
            assert not isinstance(ended, (dict, tuple))
            fields = ended.fields()
            encoded, db, external_net = ended.encoded()
        else:  # kept as text and two readings: the same text as the fields of empty readings would give
            assert isinstance(ended, tuple) and len(ended) == 5
            encoded, db, external_net = write_quiet(ended)
            fields = instruments.fields(Effects(), readings[0])
        assert json.loads("{" + encoded + "}") == fields
        assert fields["memory"] is not None and fields["cpu"] is not None
        assert db == db_facts(fields["db"]) == (queries, fields["db"]["duration_ms"], queries >= 5)
        assert external_net is False
    finally:
        instruments.close()


@settings(max_examples=200)
@given(st.integers(1_000_000_000, 4_000_000_000), st.lists(st.floats(0, 2, exclude_max=True), min_size=1, max_size=20))
def test_times_in_the_same_second_are_written_as_utc_iso_writes_them(second: int, fractions: list[float]) -> None:
    """The encoder keeps the last second's text: times in that second, the next, and a microsecond that
    rounds up into the next second all come out as `utc_iso` writes them."""
    encoder = AttemptEncoder(RUN_ID)
    for epoch in [second + f for f in fractions] + [second + 0.9999996, second + 1.0000001]:
        assert encoder.quoted_time(epoch) == f'"{utc_iso(epoch)}"'
