"""``POST /api/v1/channels/{channelId}/events`` without FastAPI's per-request dependency
solving and routing (about an eighth of the CPU of a single-event publish).

The route in ``rest/channels_api.py`` stays the contract (OpenAPI, validation, errors).
This ASGI layer serves publishes with a JSON body and a Bearer token with the very same
code — the body parsed by ``app.json_input.loads`` (what ``StrictJsonRoute`` uses), the
drafts built by the route's ``drafts_of``, ``publish_events``, the response shaped by
``event_snake`` — and hands every request it cannot or need not serve to the route with
its body replayed: an ``Idempotency-Key``, a query string, another content type, a cookie
instead of a Bearer token, and anything that fails before the publish is attempted (a bad
body or token, anonymous), so the route's answer is the answer. Once the publish was
attempted its outcome is answered here with the route's own error responses, so a
publish never runs twice. ``tests/rest/test_fast_publish.py`` compares both paths.
"""

from __future__ import annotations

import re

from starlette.datastructures import Headers
from starlette.requests import HTTPConnection
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from app.asgi_body import read_body, replay
from app.auth.credentials import request_secret
from app.auth.tokens import authenticate
from app.errors import EventgraphError
from app.json_input import loads
from app.observability.metrics import record_fast_path
from app.state import app_state
from db.database import DatabaseUnavailable
from rest.channels_api import drafts_of, publish_drafts
from rest.errors import eventgraph_error_response, unavailable_response
from rest.json_body import is_json

_PATH = re.compile(r"/api/v1/channels/([^/]+)/events")


class _Declined(Exception):
    """Leave the request to the FastAPI route."""


class _Route:
    path = "/api/v1/channels/{channelId}/events"


_ROUTE = _Route()


class FastPublishMiddleware:
    def __init__(self, app: ASGIApp, *, enabled: bool = True) -> None:
        self.app = app
        self.enabled = enabled

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match = None
        if self.enabled and scope["type"] == "http" and scope["method"] == "POST":
            match = _PATH.fullmatch(scope["path"])
        if match is None or scope.get("query_string") or "\x00" in match.group(1):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        authorization = headers.get("authorization")
        if (
            authorization is None
            or "idempotency-key" in headers
            # Without a content type the route receives the raw bytes, not the JSON value.
            or not headers.get("content-type")
            or not is_json(headers.get("content-type"))
        ):
            await self.app(scope, receive, send)
            return
        body = await read_body(receive)
        try:
            response = await _serve(scope, match.group(1), authorization, body)
        except (_Declined, EventgraphError):  # nothing attempted: the route answers the same
            await self.app(scope, replay(body, receive), send)
            return
        scope["route"] = _ROUTE
        record_fast_path("rest_publish")
        await response(scope, receive, send)


async def _serve(scope: Scope, channel_id: str, authorization: str, body: bytes) -> Response:
    if not body:
        raise _Declined
    value = loads(body)
    state = app_state(HTTPConnection(scope))
    secret = request_secret(authorization=authorization, session_cookie=None)
    principal = await authenticate(db=state.db, settings=state.settings, secret=secret)
    if not principal.is_authenticated:
        raise _Declined
    drafts, batch = drafts_of(value, state)
    try:
        return await publish_drafts(state, principal, channel_id, drafts, batch=batch)
    except EventgraphError as exc:
        return eventgraph_error_response(exc)
    except DatabaseUnavailable as exc:
        return unavailable_response(exc)
