"""The JSON error envelope ``{"error": {"code", "message", "path"?}}`` on every route."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.errors import QUERY_TIMEOUT, TIMEOUT_MESSAGE, EventgraphError
from db.database import DatabaseBusy, StatementTimeout
from rest.shapes import JsonResponse

logger = logging.getLogger("eventgraph.rest")

_HTTP_CODES = {
    400: "BAD_USER_INPUT",
    401: "UNAUTHENTICATED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    503: "SERVICE_UNAVAILABLE",
}

ERROR_EXAMPLE = {"error": {"code": "BAD_USER_INPUT", "message": "...", "path": "limit"}}


def error_body(code: str, message: str, path: str | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if path is not None:
        error["path"] = path
    return {"error": error}


def error_response(
    status: int, code: str, message: str, path: str | None = None, headers: Any = None
) -> JsonResponse:
    return JsonResponse(error_body(code, message, path), status_code=status, headers=headers)


def location_path(loc: Sequence[str | int]) -> str | None:
    """``("query", "limit")`` → ``limit``; ``("body", "events", 0, "data")`` →
    ``events[0].data``."""
    parts = list(loc)
    if parts and parts[0] in ("query", "path", "header", "cookie", "body"):
        parts = parts[1:]
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or None


async def _eventgraph_error(_request: Request, exc: Exception) -> JsonResponse:
    assert isinstance(exc, EventgraphError)
    headers = {"WWW-Authenticate": "Bearer"} if exc.http_status == 401 else None
    return error_response(exc.http_status, exc.code, exc.message, exc.path, headers)


async def _validation_error(_request: Request, exc: Exception) -> JsonResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    first = errors[0] if errors else {}
    path = location_path(first.get("loc", ()))
    message = str(first.get("msg", "invalid request"))
    if path:
        message = f"{path}: {message}"
    return error_response(400, "BAD_USER_INPUT", message, path)


async def _http_error(_request: Request, exc: Exception) -> JsonResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, "HTTP_ERROR")
    message = exc.detail if isinstance(exc.detail, str) else "request failed"
    return error_response(exc.status_code, code, message, headers=exc.headers)


async def _busy(_request: Request, _exc: Exception) -> JsonResponse:
    return error_response(
        503,
        "SERVICE_UNAVAILABLE",
        "the database is busy, retry shortly",
        headers={"Retry-After": "1"},
    )


async def _timeout(_request: Request, _exc: Exception) -> JsonResponse:
    return error_response(
        503,
        QUERY_TIMEOUT,
        TIMEOUT_MESSAGE,
        headers={"Retry-After": "1"},
    )


async def _unexpected(request: Request, exc: Exception) -> JsonResponse:
    logger.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(500, "INTERNAL_SERVER_ERROR", "internal server error")


def install_error_handlers(app: FastAPI) -> None:
    """Route every failure of the app through the envelope."""
    app.add_exception_handler(EventgraphError, _eventgraph_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(DatabaseBusy, _busy)
    app.add_exception_handler(StatementTimeout, _timeout)
    app.add_exception_handler(Exception, _unexpected)
