"""The JSON error envelope ``{"error": {"code", "message", "path"?}}`` on every route, and
the answer to whatever escapes the app (sent by ``rest.edge.EdgeMiddleware``)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Message, Scope

from app.errors import RETRY_AFTER_SECONDS, EventgraphError
from db.database import DatabaseUnavailable
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


_STATUS_HEADERS = {401: {"WWW-Authenticate": "Bearer"}, 503: {"Retry-After": RETRY_AFTER_SECONDS}}


def eventgraph_error_response(exc: EventgraphError) -> JsonResponse:
    headers = _STATUS_HEADERS.get(exc.http_status)
    return error_response(exc.http_status, exc.code, exc.message, exc.path, headers)


async def _eventgraph_error(_request: Request, exc: Exception) -> JsonResponse:
    assert isinstance(exc, EventgraphError)
    return eventgraph_error_response(exc)


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


def unavailable_message(exc: DatabaseUnavailable) -> str:
    return f"{exc}; retry shortly"


def unavailable_response(exc: DatabaseUnavailable) -> JsonResponse:
    """503 + Retry-After: the database is unreachable or busy, or a statement ran past its
    time budget (``QUERY_TIMEOUT``)."""
    return error_response(503, exc.code, unavailable_message(exc), headers=_STATUS_HEADERS[503])


async def _unavailable(_request: Request, exc: Exception) -> JsonResponse:
    assert isinstance(exc, DatabaseUnavailable)
    return unavailable_response(exc)


def install_error_handlers(app: FastAPI) -> None:
    """Route every failure of the app through the envelope."""
    app.add_exception_handler(EventgraphError, _eventgraph_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(DatabaseUnavailable, _unavailable)


def log_escaped(scope: Scope, exc: Exception) -> None:
    """Log an exception that escaped the app once (``DatabaseUnavailable`` is logged where
    it is mapped)."""
    if not isinstance(exc, DatabaseUnavailable):
        logger.exception("unhandled error on %s %s", scope["method"], scope["path"], exc_info=exc)


def escaped_error_start(scope: Scope, exc: Exception) -> tuple[Message, bytes]:
    """The answer to an exception no handler answered: an envelope, or GraphQL errors on
    ``/graphql``; 503 + Retry-After for ``DatabaseUnavailable``, else 500."""
    if isinstance(exc, DatabaseUnavailable):
        status, code, message = 503, exc.code, unavailable_message(exc)
    else:
        status, code, message = 500, "INTERNAL_SERVER_ERROR", "internal server error"
    if scope["path"].rstrip("/") == "/graphql":
        body = orjson.dumps(
            {"data": None, "errors": [{"message": message, "extensions": {"code": code}}]}
        )
    else:
        body = orjson.dumps(error_body(code, message))
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    if status == 503:
        headers.append((b"retry-after", RETRY_AFTER_SECONDS.encode()))
    return {"type": "http.response.start", "status": status, "headers": headers}, body
