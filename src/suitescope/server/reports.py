"""A report: one run record and its test records, parsed from our NDJSON or JSON and checked against schema v1.

The API parses and validates (`read_report`) before anything is queued; the worker parses the same bytes again
(`parse_report`) without validating twice. Both go through `_records`, so they cannot read a body differently.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from suitescope.schema.codec import SCHEMA_VERSION, SchemaVersionError, check_version, upgrade
from suitescope.server.body import Limits
from suitescope.server.clock import is_time
from suitescope.server.errors import ApiError, Detail
from suitescope.server.validation import MAX_ERRORS, MAX_STRING, ValidationError, adapter, errors_of

NDJSON_TYPES = frozenset({"application/x-ndjson", "application/ndjson", "application/jsonl", "application/json-lines"})
JSON_TYPE = "application/json"
RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")


@dataclass
class Report:
    run: dict[str, Any]
    tests: list[dict[str, Any]]

    @property
    def run_id(self) -> str:
        return str(self.run["run_id"])


def media_type(content_type: str | None) -> str:
    """The media type of a Content-Type header, or 415 naming the ones we take."""
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind == JSON_TYPE or kind in NDJSON_TYPES:
        return kind
    raise ApiError(
        415,
        f"Content-Type {kind or '(none)'!r} is not supported",
        [
            {
                "loc": ["header", "content-type"],
                "msg": "send application/x-ndjson (our .ndjson files) or application/json",
            }
        ],
    )


def read_report(data: bytes, kind: str, limits: Limits) -> Report:
    """Parse and validate a report; ApiError (400, 413 or 422) says what is wrong and where."""
    return _assemble(_validated(data, kind, limits))


def read_part(data: bytes, kind: str, limits: Limits, run_id: str) -> tuple[bool, int]:
    """Validate one part of a run sent in parts: (whether it holds the run record, how many test records)."""
    records = _validated(data, kind, limits)
    runs = [loc for loc, record in records if record.get("kind") == "run"]
    if len(runs) > 1:
        raise ApiError(
            422, "a part holds one run record at most", [{"loc": list(runs[1]), "msg": "a second run record"}]
        )
    strays = [loc for loc, record in records if record.get("run_id") != run_id]
    if strays:
        raise ApiError(
            422,
            f"every record of a part must be of run {run_id!r}",
            [{"loc": [*loc, "run_id"], "msg": "another run's record"} for loc in strays[:MAX_ERRORS]],
        )
    return bool(runs), len(records) - len(runs)


def _validated(data: bytes, kind: str, limits: Limits) -> list[Located]:
    long: set[tuple[str | int, ...]] = set()
    records = list(_records(data, kind, long))
    tests = sum(1 for _loc, record in records if record.get("kind") == "test")
    if tests > limits.max_records:
        raise ApiError(
            413,
            f"the report has {tests:,} test records, over the server's limit of {limits.max_records:,}",
            [{"loc": ["body"], "msg": "split the run, or ask the operator to raise --max-records"}],
        )
    errors: Detail = []
    for loc, record in records:
        _validate(record, loc, errors)
        if loc in long:
            errors.extend(_long_strings(record, list(loc)))
        if len(errors) >= MAX_ERRORS:
            break
    if errors:
        raise ApiError(422, "the report does not follow schema v1", errors[:MAX_ERRORS])
    return records


def parse_report(data: bytes, kind: str) -> Report:
    """A report the API already validated: the worker's read, which skips every check `read_report` made (it
    runs once per result stored: this is most of the worker's Python)."""
    if kind == JSON_TYPE:
        obj = orjson.loads(data)
        records = [*obj["tests"], obj["run"]]
    else:
        loads = orjson.loads
        records = [loads(line) for line in data.split(b"\n") if line and not line.isspace()]
    run = next(record for record in reversed(records) if record["kind"] == "run")
    tests = [
        record if record["schema_version"] == SCHEMA_VERSION else upgrade(record)
        for record in records
        if record["kind"] == "test"
    ]
    return Report(upgrade(run), tests)


Located = tuple[tuple[str | int, ...], dict[str, Any]]


def _records(data: bytes, kind: str, long: set[tuple[str | int, ...]]) -> Iterator[Located]:
    """Each record with where it is; the places of records long enough to hold a string over MAX_STRING go
    into `long` (a line shorter than that cannot, so most records are never walked for it)."""
    if kind == JSON_TYPE:
        for loc, record in _json_records(data):
            if len(data) > MAX_STRING:
                long.add(loc)
            yield loc, record
        return
    for number, line in enumerate(data.split(b"\n"), start=1):
        if line.strip():
            loc = ("body", f"line {number}")
            if len(line) > MAX_STRING:
                long.add(loc)
            yield loc, _object(line, loc)


def _json_records(data: bytes) -> Iterator[Located]:
    obj = _object(data, ("body",))
    run, tests = obj.get("run"), obj.get("tests")
    if not isinstance(run, dict) or not isinstance(tests, list):
        raise ApiError(
            422,
            "a JSON report is an object with `run` (the run record) and `tests` (a list of test records)",
            [{"loc": ["body", key], "msg": "missing or of the wrong type"} for key in ("run", "tests")],
        )
    for index, test in enumerate(tests):
        if not isinstance(test, dict):
            raise ApiError(
                422, "a test record is a JSON object", [{"loc": ["body", "tests", index], "msg": "not an object"}]
            )
        yield ("body", "tests", index), test
    yield ("body", "run"), run


def _object(data: bytes, loc: tuple[str | int, ...]) -> dict[str, Any]:
    try:
        obj = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise ApiError(400, "the body is not valid JSON", [{"loc": list(loc), "msg": str(exc)}]) from None
    if not isinstance(obj, dict):
        raise ApiError(422, "a record is a JSON object", [{"loc": list(loc), "msg": f"got {type(obj).__name__}"}])
    return obj


def _long_strings(value: Any, loc: list[str | int]) -> Detail:
    """Strings longer than MAX_STRING characters, wherever they are in a record (unknown fields included)."""
    if isinstance(value, str):
        return [{"loc": loc, "msg": f"longer than {MAX_STRING:,} characters"}] if len(value) > MAX_STRING else []
    if isinstance(value, dict):
        return [error for key, item in value.items() for error in _long_strings(item, [*loc, key])]
    if isinstance(value, list):
        return [error for index, item in enumerate(value) for error in _long_strings(item, [*loc, index])]
    return []


def _validate(record: dict[str, Any], loc: tuple[str | int, ...], errors: Detail) -> None:
    kind = record.get("kind")
    if kind not in ("test", "run"):
        errors.append({"loc": [*loc, "kind"], "msg": f"expected 'test' or 'run', got {kind!r}"})
        return
    try:
        check_version(record.get("schema_version"))
    except (SchemaVersionError, ValueError) as exc:
        errors.append({"loc": [*loc, "schema_version"], "msg": str(exc)})
        return
    try:
        adapter(kind).validate_python(upgrade(record))
    except ValidationError as exc:
        errors.extend(errors_of(exc, loc))


def _assemble(records: list[Located]) -> Report:
    runs = [(loc, record) for loc, record in records if record.get("kind") == "run"]
    if len(runs) != 1:
        raise ApiError(
            422,
            f"a report holds exactly one run record, this one has {len(runs)}",
            [{"loc": ["body"], "msg": "send one run per request, its run record last"}],
        )
    loc, run = runs[0]
    if not RUN_ID.fullmatch(run["run_id"]):
        raise ApiError(
            422, "the run_id is not valid", [{"loc": [*loc, "run_id"], "msg": "1-64 of A-Z a-z 0-9 . _ : -"}]
        )
    for key in ("started", "finished"):
        if run.get(key) is not None and not is_time(run[key]):
            raise ApiError(
                422, f"the run's {key} is not a time", [{"loc": [*loc, key], "msg": "expected ISO 8601 UTC"}]
            )
    tests = [upgrade(record) for _loc, record in records if record.get("kind") == "test"]
    strays = [(loc, t) for (loc, t) in records if t.get("kind") == "test" and t["run_id"] != run["run_id"]]
    if strays:
        raise ApiError(
            422,
            "every test record must carry its run's run_id",
            [
                {"loc": [*loc, "run_id"], "msg": f"{t['run_id']!r} is not {run['run_id']!r}"}
                for loc, t in strays[:MAX_ERRORS]
            ],
        )
    return Report(upgrade(run), tests)
