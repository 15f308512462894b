"""Encode and decode records: one JSON object per line, each stamped with `schema_version` and `kind`.

Reading is forgiving where forgiveness loses nothing (a torn or garbled line is skipped and counted, so an
interrupted run is still read as far as it goes) and strict where guessing would (a record of a major version
this code does not know is refused, naming the version).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from suitescope.schema.records import Record

SCHEMA_VERSION = "1.3.0"
_CURRENT = (1, 3)
KINDS = ("test", "run")


class SchemaVersionError(ValueError):
    """A record was written by a schema major version this code cannot read."""


@dataclass
class ReadResult:
    """The records of one NDJSON source, and what had to be skipped to read them."""

    records: list[Record] = field(default_factory=list)
    skipped: int = 0
    warnings: list[str] = field(default_factory=list)


# One encoder for every record: json.dumps with options builds a new encoder on each call. Records are trees
# built by our own code, so the check for reference cycles (a dict lookup per container) is skipped.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False, check_circular=False)


def to_json(record: Record) -> str:
    """One record as one line of compact JSON (no trailing newline)."""
    return _ENCODER.encode(record)


def _part_encoder() -> Callable[[object], str]:
    """`encode`: the encoder above without the wrapping it builds on every call (a third of the time of a
    small part such as a test's params), where CPython's C encoder is there to call directly. Checked at
    import against the encoder above; anything else gets the encoder above."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return _ENCODER.encode
    try:
        # The arguments `JSONEncoder.iterencode` gives it, in its order; an unknown value raises TypeError.
        direct = make(None, _ENCODER.default, json.encoder.encode_basestring, None, ":", ",", False, False, False)
        sample = {"a": [1, 2.5, None, True, "é\n"], "b": {"c": "d"}}
        if "".join(direct(sample, 0)) != _ENCODER.encode(sample):
            return _ENCODER.encode
    except Exception:
        return _ENCODER.encode
    return lambda value: "".join(direct(value, 0))


# A part of a record (a dict, a list) as compact JSON, as `to_json` writes it inside a line.
encode: Callable[[object], str] = _part_encoder()


def dumps(records: Iterable[Record]) -> str:
    """Records as NDJSON text, one line each, newline-terminated."""
    return "".join(to_json(r) + "\n" for r in records)


def from_json(line: str) -> Record:
    """Decode one line; ValueError says what is wrong, SchemaVersionError when the major is unknown."""
    obj = json.loads(line)
    if not isinstance(obj, dict):
        raise ValueError(f"expected a JSON object, got {type(obj).__name__}")
    kind = obj.get("kind")
    if kind not in KINDS:
        raise ValueError(f"unknown record kind {kind!r} (expected one of {', '.join(KINDS)})")
    check_version(obj.get("schema_version"))
    return cast(Record, upgrade(obj))


def check_version(version: object) -> None:
    """Refuse a record whose major version differs from ours: its fields may mean something else."""
    if not isinstance(version, str) or not version.split(".")[0].isdigit():
        raise ValueError(f"schema_version {version!r} is not a semantic version")
    major = version.split(".")[0]
    ours = SCHEMA_VERSION.split(".")[0]
    if major != ours:
        raise SchemaVersionError(
            f"record has schema_version {version}, this suitescope reads {ours}.x: "
            f"{'upgrade suitescope' if int(major) > int(ours) else 'convert the file with an older suitescope'}"
        )


# Fields each minor version added, with the value that means "not measured" in the versions before it.
_ADDED: dict[str, list[tuple[tuple[int, int], str, Any]]] = {
    "test": [((1, 1), key, None) for key in ("db", "db_queries", "network", "net_urls", "memory", "cpu")],
    "run": [
        (
            (1, 1),
            "effects",
            {"db_queries": None, "db_duration_ms": None, "n_plus_one_tests": None, "external_network_tests": None},
        ),
        ((1, 2), "subtests_failed", 0),
    ],
}


def upgrade(obj: dict[str, Any]) -> dict[str, Any]:
    """Bring an older minor version up to ours by filling the fields it did not have, so that every reader
    (the report, the server) sees every key of the current version."""
    parts = obj["schema_version"].split(".")
    major, minor = int(parts[0]), int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
    if (major, minor) >= _CURRENT:
        return obj
    for since, key, default in _ADDED[obj["kind"]]:
        if (major, minor) < since and key not in obj:
            obj[key] = copy.deepcopy(default)
    if obj["kind"] == "run" and (major, minor) < (1, 1) and isinstance(obj.get("memory"), dict):
        obj["memory"].setdefault("processes", {})
    if obj["kind"] == "run" and (major, minor) < (1, 3) and isinstance(obj.get("consent"), dict):
        obj["consent"].setdefault("anonymity", None)
    return obj


def read_ndjson(source: Path | Iterable[str], *, name: str | None = None) -> ReadResult:
    """Read records from a file path or an iterable of lines, skipping (and counting) malformed lines."""
    result = ReadResult()
    label = name or (str(source) if isinstance(source, Path) else "<lines>")
    if isinstance(source, Path):
        with source.open(encoding="utf-8", errors="replace") as fh:
            _read_lines(fh, result, label)
    else:
        _read_lines(source, result, label)
    return result


def _read_lines(lines: Iterable[str], result: ReadResult, label: str) -> None:
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            result.records.append(from_json(line))
        except SchemaVersionError as exc:
            raise SchemaVersionError(f"{label}:{number}: {exc}") from None
        except ValueError as exc:  # json.JSONDecodeError is a ValueError
            result.skipped += 1
            result.warnings.append(f"{label}:{number}: skipped malformed line ({exc})")
