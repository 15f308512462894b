"""Every error the API answers has one shape: `{"error": "what went wrong", "detail": [{"loc", "msg"}]}`.

`loc` says where, from the request down (`["body", "line 3", "status"]`, `["query", "project"]`); `msg` says what
is wrong with it. Bad input is always a 4xx; a 500 means a bug of ours, logged with its traceback.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import InterfaceError, OperationalError
from starlette.exceptions import HTTPException

from suitescope.server.responses import Json

log = logging.getLogger("suitescope.server")

Detail = list[dict[str, Any]]


class ApiError(Exception):
    """An answer other than success, raised anywhere below a route."""

    def __init__(
        self, status: int, error: str, detail: Detail | None = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(error)
        self.status = status
        self.error = error
        self.detail = detail or []
        self.headers = headers


def error_response(
    status: int, error: str, detail: Detail | None = None, headers: dict[str, str] | None = None
) -> Json:
    return Json({"error": error, "detail": detail or []}, status_code=status, headers=headers)


def _counted(request: Request, status: int) -> None:
    metrics = getattr(getattr(request.app.state, "suitescope", None), "metrics", None)
    if metrics is not None:
        metrics.add("suitescope_http_errors_total", label=f"status={status}")


async def _api_error(request: Request, exc: Exception) -> Json:
    assert isinstance(exc, ApiError)
    _counted(request, exc.status)
    return error_response(exc.status, exc.error, exc.detail, exc.headers)


async def _request_validation(request: Request, exc: Exception) -> Json:
    assert isinstance(exc, RequestValidationError)
    _counted(request, 422)
    detail = [{"loc": list(err["loc"]), "msg": err["msg"]} for err in exc.errors()[:20]]
    return error_response(422, "the request is not valid", detail)


async def _http_error(request: Request, exc: Exception) -> Json:
    assert isinstance(exc, HTTPException)
    _counted(request, exc.status_code)
    return error_response(exc.status_code, str(exc.detail), headers=dict(exc.headers) if exc.headers else None)


async def _unavailable(request: Request, exc: Exception) -> Json:
    """The store or the queue does not answer: not the request's fault, and not a bug. 503, try again later."""
    _counted(request, 503)
    log.warning("%s %s: a backend is unavailable: %s", request.method, request.url.path, str(exc).splitlines()[0])
    detail = [{"loc": ["server"], "msg": "the store or the queue is unavailable; the request can be sent again"}]
    return error_response(503, "temporarily unavailable: try again shortly", detail, {"Retry-After": "5"})


async def _unexpected(request: Request, exc: Exception) -> Json:
    _counted(request, 500)
    log.exception("unexpected error in %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(500, "internal error: this is a bug in suitescope, the server log has the traceback")


def install(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _request_validation)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(OperationalError, _unavailable)  # the database is down or unreachable
    app.add_exception_handler(InterfaceError, _unavailable)
    try:
        from redis.exceptions import ConnectionError as RedisDown
        from redis.exceptions import TimeoutError as RedisSlow
    except ImportError:  # the Redis queue is an extra
        pass
    else:
        app.add_exception_handler(RedisDown, _unavailable)
        app.add_exception_handler(RedisSlow, _unavailable)
    app.add_exception_handler(Exception, _unexpected)
