"""Where a request's secret comes from: pure functions over header, cookie and WS payload."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.errors import Unauthenticated

SESSION_COOKIE = "session"


def bearer_secret(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` value; None when absent or empty.

    Any other scheme is a bad credential (401), not anonymity.
    """
    if authorization is None or not authorization.strip():
        return None
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthenticated("the Authorization header must be 'Bearer <token>'")
    return token


def request_secret(*, authorization: str | None, session_cookie: str | None) -> str | None:
    """The secret of an HTTP request or WebSocket upgrade: the header wins over the cookie."""
    secret = bearer_secret(authorization)
    if secret is not None:
        return secret
    if session_cookie is not None and session_cookie.strip():
        return session_cookie.strip()
    return None


def connection_params_secret(params: Mapping[str, Any] | None) -> str | None:
    """The secret in a WebSocket ``connection_init`` payload.

    Accepts ``{"Authorization": "Bearer x"}`` (any case of the key), ``{"token": "x"}`` and
    the Apollo-style ``{"headers": {"Authorization": "Bearer x"}}``.
    """
    if not isinstance(params, Mapping):
        return None
    for key, value in params.items():
        if isinstance(key, str) and key.lower() == "authorization" and isinstance(value, str):
            if not value.strip():
                continue
            # Some clients send the bare token without the scheme.
            if " " not in value.strip():
                return value.strip()
            return bearer_secret(value)
    token = params.get("token")
    if isinstance(token, str) and token.strip():
        return token.strip()
    headers = params.get("headers")
    if isinstance(headers, Mapping) and headers is not params:
        return connection_params_secret(headers)
    return None
