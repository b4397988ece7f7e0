"""One error hierarchy: every client-visible failure has a code and an HTTP status."""

from __future__ import annotations

# A statement ran past EVENTGRAPH_STATEMENT_TIMEOUT_MS (HTTP 503 with Retry-After).
QUERY_TIMEOUT = "QUERY_TIMEOUT"
TIMEOUT_MESSAGE = (
    "the query ran past its time budget and was stopped; narrow the filter or page size"
)


class EventgraphError(Exception):
    """Base of every error a client may see; ``code`` is the GraphQL ``extensions.code``."""

    code = "INTERNAL_SERVER_ERROR"
    http_status = 500

    def __init__(self, message: str, *, path: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = path


class BadInput(EventgraphError):
    code = "BAD_USER_INPUT"
    http_status = 400


class Unauthenticated(EventgraphError):
    code = "UNAUTHENTICATED"
    http_status = 401


class Forbidden(EventgraphError):
    code = "FORBIDDEN"
    http_status = 403


class NotFound(EventgraphError):
    code = "NOT_FOUND"
    http_status = 404


class Conflict(EventgraphError):
    code = "CONFLICT"
    http_status = 409


class PayloadTooLarge(EventgraphError):
    code = "PAYLOAD_TOO_LARGE"
    http_status = 413


class ServiceUnavailable(EventgraphError):
    code = "SERVICE_UNAVAILABLE"
    http_status = 503
