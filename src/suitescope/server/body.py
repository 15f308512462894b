"""Read a request body within limits: its size as sent, and its size once gunzipped (a gzip bomb stops at the
limit, after decompressing no more than the limit)."""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from fastapi import Request

from suitescope.server.errors import ApiError


@dataclass(frozen=True)
class Limits:
    max_body: int = 32 * 1024 * 1024  # bytes as sent (compressed or not)
    max_decompressed: int = 512 * 1024 * 1024  # bytes after gunzip
    max_records: int = 500_000  # test records in one report


@dataclass(frozen=True)
class Body:
    """A body as received (what the queue keeps: nothing lost, nothing re-encoded) and as text to parse."""

    raw: bytes
    encoding: str  # "identity" or "gzip"
    data: bytes


async def read_body(request: Request, limits: Limits) -> Body:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limits.max_body:
        raise _too_large("body", limits.max_body)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limits.max_body:
            raise _too_large("body", limits.max_body)
        chunks.append(chunk)
    raw = b"".join(chunks)
    encoding = request.headers.get("content-encoding", "identity").strip().lower() or "identity"
    if encoding == "identity":
        return Body(raw, encoding, raw)
    if encoding in ("gzip", "x-gzip"):
        return Body(raw, "gzip", gunzip(raw, limits.max_decompressed))
    raise ApiError(
        415,
        f"Content-Encoding {encoding!r} is not supported: send the body as is or gzip-compressed",
        [{"loc": ["header", "content-encoding"], "msg": "expected gzip or identity"}],
    )


def gunzip(raw: bytes, limit: int) -> bytes:
    """Decompress gzip data, refusing (413) once the output would pass `limit`, and 400 on broken data."""
    inflater = zlib.decompressobj(wbits=31)
    try:
        data = inflater.decompress(raw, limit)
        if inflater.unconsumed_tail:
            raise _too_large("decompressed body", limit)
        data += inflater.flush()
    except zlib.error as exc:
        raise ApiError(400, "the body is not valid gzip data", [{"loc": ["body"], "msg": f"gzip: {exc}"}]) from None
    if not inflater.eof:
        raise ApiError(400, "the body is not valid gzip data", [{"loc": ["body"], "msg": "gzip stream is truncated"}])
    return data


def _too_large(what: str, limit: int) -> ApiError:
    return ApiError(
        413,
        f"the {what} is larger than the server's limit of {limit:,} bytes",
        [{"loc": ["body"], "msg": f"{what} over {limit:,} bytes: split the report or ask the operator to raise it"}],
    )
