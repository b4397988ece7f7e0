"""Cross-site request forgery: a cookie alone never authorizes a "simple" request.

A browser sends the ``session`` cookie with any cross-site form post or ``no-cors``
fetch, but it sends such a request without asking the server first only when it is
"simple": a POST whose content type is missing, ``text/plain``,
``application/x-www-form-urlencoded`` or ``multipart/form-data``, with no custom header.
Anything else (``application/json``, an ``Authorization`` header, ``X-Requested-With``)
needs a CORS preflight, which this server never grants. So a POST that carries the
session cookie, no ``Authorization`` header, a simple content type and none of the
headers below is refused with 403 before any route sees it — Apollo Server's CSRF
prevention, applied to every route. GET and HEAD change nothing here (a GraphQL mutation
over GET is refused for everyone), and PUT/PATCH/DELETE are never simple.
"""

from __future__ import annotations

import orjson
from starlette.datastructures import Headers
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Receive, Scope, Send

from app.asgi_responses import send_json
from app.auth.credentials import SESSION_COOKIE

SIMPLE_CONTENT_TYPES = frozenset(
    {"text/plain", "application/x-www-form-urlencoded", "multipart/form-data"}
)
PREFLIGHT_HEADERS = ("x-requested-with", "apollo-require-preflight", "x-apollo-operation-name")
MESSAGE = (
    "refused as a possible cross-site request forgery: a request authenticated by the"
    " session cookie must send Content-Type: application/json or an X-Requested-With"
    " (or Apollo-Require-Preflight) header"
)


def is_forgeable(method: str, headers: Headers) -> bool:
    """True for a request a cross-site page could make with the user's session cookie."""
    if method != "POST" or headers.get("authorization"):
        return False
    session = cookie_parser(headers.get("cookie", "")).get(SESSION_COOKIE, "")
    if not session.strip():
        return False
    content_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type and content_type not in SIMPLE_CONTENT_TYPES:
        return False
    return not any(headers.get(name) for name in PREFLIGHT_HEADERS)


def _body(path: str) -> bytes:
    if path.rstrip("/") == "/graphql":
        return orjson.dumps({"errors": [{"message": MESSAGE, "extensions": {"code": "FORBIDDEN"}}]})
    return orjson.dumps({"error": {"code": "FORBIDDEN", "message": MESSAGE}})


class CsrfMiddleware:
    """Refuses forgeable cookie-authenticated requests (see the module docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] == "POST"
            and any(name == b"cookie" for name, _ in scope["headers"])  # else not forgeable
            and is_forgeable(scope["method"], Headers(scope=scope))
        ):
            await send_json(send, _body(scope["path"]), status=403)
            return
        await self.app(scope, receive, send)
