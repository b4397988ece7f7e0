"""Where secrets come from: header, cookie, WebSocket connection_init payload."""

from __future__ import annotations

import pytest

from app.auth.credentials import bearer_secret, connection_params_secret, request_secret
from app.errors import Unauthenticated


def test_bearer_header() -> None:
    assert bearer_secret("Bearer eg_abc") == "eg_abc"
    assert bearer_secret("bearer   eg_abc  ") == "eg_abc"
    assert bearer_secret(None) is None
    assert bearer_secret("  ") is None
    for bad in ("Basic dXNlcjpwYXNz", "Bearer", "Bearer   ", "eg_abc"):
        with pytest.raises(Unauthenticated):
            bearer_secret(bad)


def test_header_wins_over_cookie() -> None:
    assert request_secret(authorization="Bearer h", session_cookie="c") == "h"
    assert request_secret(authorization=None, session_cookie="c") == "c"
    assert request_secret(authorization=None, session_cookie="") is None
    assert request_secret(authorization=None, session_cookie=None) is None


def test_connection_params() -> None:
    assert connection_params_secret({"Authorization": "Bearer x"}) == "x"
    assert connection_params_secret({"authorization": "Bearer x"}) == "x"
    assert connection_params_secret({"authorization": "x"}) == "x"
    assert connection_params_secret({"token": "x"}) == "x"
    assert connection_params_secret({"headers": {"Authorization": "Bearer x"}}) == "x"
    assert connection_params_secret({}) is None
    assert connection_params_secret(None) is None
    assert connection_params_secret({"Authorization": 5}) is None
    with pytest.raises(Unauthenticated):
        connection_params_secret({"Authorization": "Basic abc"})
