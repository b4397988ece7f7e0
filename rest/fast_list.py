"""``GET /api/events`` without FastAPI's per-request dependency solving.

The route in ``rest/events_api.py`` stays the contract (OpenAPI, validation, errors). This
ASGI layer serves the valid, authenticated requests with the very same code — the query
string parsed by Starlette's ``QueryParams``, validated by the route's own
``EventListParams`` model, the body built by ``events_page`` — and hands every other
request (invalid parameters, missing or bad credentials, any client error) to the route
unchanged, so the route's error is the answer. A database failure (unreachable, or a
statement past its time budget) is the one error answered here, with the route's own
response: handing it on would run the request a second time. Dependency solving was a
fifth of the CPU of a REST request, enough to make the REST shim cost more than the
GraphQL query it mirrors.
"""

from __future__ import annotations

import orjson
from pydantic import ValidationError
from starlette.datastructures import QueryParams
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from app.asgi_responses import send_json
from app.auth.credentials import SESSION_COOKIE, request_secret
from app.auth.tokens import authenticate
from app.errors import EventgraphError
from app.observability.metrics import record_fast_path
from app.state import app_state
from db.database import DatabaseUnavailable
from rest.errors import unavailable_response
from rest.event_params import EventListParams
from rest.events_api import events_page


class _Declined(Exception):
    """Leave the request to the FastAPI route."""


def list_params(query_string: bytes) -> EventListParams:
    """The route's parameter model from a raw query string (``_Declined`` when invalid)."""
    params = QueryParams(query_string)
    # The route refuses NUL in any parameter (rest.deps.reject_nul).
    if any("\x00" in key or "\x00" in value for key, value in params.multi_items()):
        raise _Declined
    try:
        return EventListParams.model_validate(dict(params))
    except ValidationError:
        raise _Declined from None


class FastListMiddleware:
    def __init__(self, app: ASGIApp, *, enabled: bool = True) -> None:
        self.app = app
        self.enabled = enabled

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            self.enabled
            and scope["type"] == "http"
            and scope["method"] == "GET"
            and scope["path"] == "/api/events"
        ):
            try:
                body = await self._serve(scope)
            except (_Declined, EventgraphError):
                body = None  # decided before any page was read: the route answers the same
            except DatabaseUnavailable as exc:
                # A statement was sent (it failed or ran out of time): answer as the route
                # would rather than have the route run it, and spend its budget, again.
                scope["route"] = _ROUTE
                await unavailable_response(exc)(scope, receive, send)
                return
            if body is not None:
                record_fast_path("rest_list")
                await send_json(send, body)
                return
        await self.app(scope, receive, send)

    async def _serve(self, scope: Scope) -> bytes:
        params = list_params(scope.get("query_string", b""))
        connection = HTTPConnection(scope)
        secret = request_secret(
            authorization=connection.headers.get("authorization"),
            session_cookie=connection.cookies.get(SESSION_COOKIE),
        )
        if secret is None:
            raise _Declined
        state = app_state(connection)
        principal = await authenticate(db=state.db, settings=state.settings, secret=secret)
        page = await events_page(state=state, principal=principal, params=params)
        scope["route"] = _ROUTE
        return orjson.dumps(page)


class _Route:
    path = "/api/events"


_ROUTE = _Route()
