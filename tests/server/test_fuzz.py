"""Schemathesis drives every operation of the OpenAPI schema with generated input, valid and not: the answer
is never a 5xx (a 500 is a bug; the app re-raises it, so it fails here with its traceback)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings

from suitescope.server.app import create_app
from tests.server.conftest import make_settings, seed_tokens


@schemathesis.serializer("application/x-ndjson")
def _ndjson(_ctx: object, value: object) -> bytes:
    """Generated values as one NDJSON line each (a string is sent as is: often not JSON at all)."""
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    return json.dumps(value).encode() + b"\n"  # json, not orjson: generated integers can pass 64 bits


_DIR = Path(tempfile.mkdtemp(prefix="suitescope-fuzz-"))
_SETTINGS = make_settings(_DIR)
TOKENS = seed_tokens(_SETTINGS)
schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(_SETTINGS))


@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_input_makes_a_server_error(case: schemathesis.Case) -> None:
    for token in (TOKENS["admin"], TOKENS["ingest"]):
        answer = case.call(headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code < 500, (
            f"{case.method} {case.formatted_path}: {answer.status_code} {answer.text[:500]}"
        )
