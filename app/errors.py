"""One error hierarchy: every client-visible failure has a code and an HTTP status."""

from __future__ import annotations

from typing import Any

RETRY_AFTER_SECONDS = "1"
"""``Retry-After`` of every 503 (busy or unavailable database)."""


class EventgraphError(Exception):
    """Base of every error a client may see; ``code`` is the GraphQL ``extensions.code``."""

    code = "INTERNAL_SERVER_ERROR"
    http_status = 500

    def __init__(self, message: str, *, path: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = path

    @property
    def extensions(self) -> dict[str, Any]:
        """Extra GraphQL ``extensions`` (beyond ``code`` and ``path``)."""
        return {}


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


class SlowConsumer(EventgraphError):
    """A stream subscriber fell further behind than its queue allows.

    ``resume_after`` is the id to pass as ``after`` (GraphQL) or ``Last-Event-ID`` (SSE)
    to continue without a gap; None when nothing was delivered and no position was known.
    """

    code = "SLOW_CONSUMER"
    http_status = 409

    def __init__(self, resume_after: str | None) -> None:
        super().__init__(
            "the subscriber fell too far behind and was ended; resume after the id given"
        )
        self.resume_after = resume_after

    @property
    def extensions(self) -> dict[str, Any]:
        return {"resumeAfter": self.resume_after}
