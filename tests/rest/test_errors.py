"""The error envelope on every route: unknown routes, wrong methods, bad input, faults."""

from __future__ import annotations

import httpx
from asgi_lifespan import LifespanManager

from app.main import create_app
from app.settings import Settings
from db.database import DatabaseBusy
from tests.fixtures.app import Api
from tests.rest.conftest import ADMIN


async def test_unknown_route_is_404_in_the_envelope(api: Api) -> None:
    r = await api.http.get("/api/nothing-here")
    assert r.status_code == 404
    assert r.json() == {"error": {"code": "NOT_FOUND", "message": "Not Found"}}


async def test_wrong_method_is_405_in_the_envelope(api: Api) -> None:
    r = await api.http.put("/api/events", headers=ADMIN)
    assert r.status_code == 405
    assert r.json()["error"]["code"] == "METHOD_NOT_ALLOWED"
    assert "GET" in r.headers["allow"]


async def test_validation_error_names_the_parameter(api: Api) -> None:
    r = await api.http.get("/api/events?limit=-3", headers=ADMIN)
    assert r.status_code == 400
    error = r.json()["error"]
    assert error["code"] == "BAD_USER_INPUT"
    assert error["path"] == "limit"


async def test_body_validation_paths(api: Api) -> None:
    r = await api.http.post(
        "/api/v1/channels", json={"id": "x", "name": "x", "private": "maybe"}, headers=ADMIN
    )
    assert r.status_code == 400
    assert r.json()["error"]["path"] in {"workspaceId", "private"}


async def test_unauthenticated_carries_www_authenticate(api: Api) -> None:
    r = await api.http.get("/api/events")
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == "Bearer"


async def test_faults_are_a_500_envelope_and_busy_is_503(settings: Settings) -> None:
    app = create_app(settings)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret internals: SELECT * FROM tokens")

    @app.get("/busy")
    async def busy() -> None:
        raise DatabaseBusy("database is locked")

    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            r = await http.get("/boom")
            assert r.status_code == 500
            assert r.json() == {
                "error": {"code": "INTERNAL_SERVER_ERROR", "message": "internal server error"}
            }
            assert "SELECT" not in r.text
            r = await http.get("/busy")
            assert r.status_code == 503
            assert r.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
            assert r.headers["retry-after"] == "1"


async def test_nul_characters_are_bad_input_not_database_errors(api: Api) -> None:
    http = api.http
    r = await http.post("/api/v1/workspaces", json={"id": "acme", "name": "Acme"}, headers=ADMIN)
    assert r.status_code == 201
    r = await http.post(
        "/api/v1/channels", json={"id": "market", "name": "m", "workspaceId": "acme"}, headers=ADMIN
    )
    assert r.status_code == 201
    for url, path in (
        ("/api/events?type=%00", "type"),
        ("/api/events/%00", "id"),
        ("/api/events?ids=%00", "ids"),
        ("/api/events?filter=%7B%22type%22%3A%7B%22eq%22%3A%22%5Cu0000%22%7D%7D", "filter.type.eq"),
        ("/api/events/export.ndjson?type=%00", "type"),
        ("/api/v1/channels/market/events?type=a%00b", "type"),
        ("/api/v1/channels/%00/events", "channelId"),
        ("/api/v1/channels/market/events/%00", "eventId"),
        ("/v1/admin/events?event=%00", "event"),
    ):
        r = await http.get(url, headers=ADMIN)
        assert r.status_code == 400, (url, r.text)
        assert r.json()["error"]["path"] == path, url
    for url, body in (
        ("/api/v1/channels/market/events", {"type": "a", "data": {"k\x00": "v"}}),
        ("/v1/admin/events/replay", {"eventIds": ["a\x00"]}),
        ("/api/v1/workspaces", {"name": "a\x00"}),
    ):
        r = await http.post(url, json=body, headers=ADMIN)
        assert r.status_code == 400, (url, r.text)
    # An escaped backslash followed by "u0000" is ordinary text.
    r = await http.post("/api/v1/channels/market/events", json={"data": "\\u0000"}, headers=ADMIN)
    assert r.status_code == 201
