"""The contract between collector and server: record types, codec and version rules (stdlib only)."""

from suitescope.schema.codec import (
    SCHEMA_VERSION,
    ReadResult,
    SchemaVersionError,
    dumps,
    from_json,
    read_ndjson,
    to_json,
)
from suitescope.schema.records import (
    STATUSES,
    Assertions,
    Failure,
    Phases,
    Record,
    RunRecord,
    TestRecord,
)

__all__ = [
    "SCHEMA_VERSION",
    "STATUSES",
    "Assertions",
    "Failure",
    "Phases",
    "ReadResult",
    "Record",
    "RunRecord",
    "SchemaVersionError",
    "TestRecord",
    "dumps",
    "from_json",
    "read_ndjson",
    "to_json",
]
