"""Annotated dependencies shared by the REST routers: app state and the caller."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from app.auth.credentials import SESSION_COOKIE, request_secret
from app.auth.principal import Principal
from app.auth.tokens import authenticate
from app.errors import BadInput, Forbidden, Unauthenticated
from app.state import AppState, app_state

# Declared for OpenAPI ("Authorize" in /docs); the raw header is parsed by app.auth so that
# a malformed Authorization header is a 401 rather than anonymity.
_bearer = HTTPBearer(auto_error=False, description="`Authorization: Bearer <token>`")
_cookie = APIKeyCookie(
    name=SESSION_COOKIE, auto_error=False, description="`Cookie: session=<token>`"
)


async def _state(request: Request) -> AppState:
    # async: FastAPI runs a plain ``def`` dependency in a worker thread, a hand-off per request.
    return app_state(request)


StateDep = Annotated[AppState, Depends(_state)]


async def _principal(
    request: Request,
    _bearer_doc: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
    _cookie_doc: Annotated[str | None, Security(_cookie)],
) -> Principal:
    state = app_state(request)
    secret = request_secret(
        authorization=request.headers.get("authorization"),
        session_cookie=request.cookies.get(SESSION_COOKIE),
    )
    return await authenticate(db=state.db, settings=state.settings, secret=secret)


async def _authenticated(principal: Annotated[Principal, Depends(_principal)]) -> Principal:
    if not principal.is_authenticated:
        raise Unauthenticated("a Bearer token or session cookie is required")
    return principal


async def _admin(principal: Annotated[Principal, Depends(_authenticated)]) -> Principal:
    if not principal.is_admin:
        raise Forbidden("an admin token is required")
    return principal


PrincipalDep = Annotated[Principal, Depends(_principal)]
"""The caller, anonymous when no credential was sent (401 on a bad one)."""
AuthenticatedDep = Annotated[Principal, Depends(_authenticated)]
"""Any valid token (401 otherwise)."""
AdminDep = Annotated[Principal, Depends(_admin)]
"""An admin token: 401 without credentials, 403 with a non-admin token."""


async def reject_nul(request: Request) -> None:
    """NUL cannot be stored or compared in PostgreSQL text: refuse it in any parameter as a
    400 rather than a database error (JSON bodies are checked by ``rest.json_body``)."""
    for name, value in [*request.path_params.items(), *request.query_params.multi_items()]:
        if isinstance(value, str) and "\x00" in value:
            raise BadInput(f"{name} must not contain NUL characters", path=name)
