"""Management routes under /api/v1 (admin token)."""

from __future__ import annotations

from tests.rest.conftest import ADMIN, World, bearer


async def test_workspaces(world: World) -> None:
    http = world.api.http
    r = await http.post("/api/v1/workspaces", json={"name": "New Co"}, headers=ADMIN)
    assert r.status_code == 201
    created = r.json()
    assert created["name"] == "New Co"
    assert created["id"]
    assert created["createdAt"].endswith("Z")
    got = await http.get(f"/api/v1/workspaces/{created['id']}", headers=ADMIN)
    assert got.json() == created
    dup = await http.post("/api/v1/workspaces", json={"id": "acme", "name": "x"}, headers=ADMIN)
    assert dup.status_code == 409
    assert (await http.get("/api/v1/workspaces/nope", headers=ADMIN)).status_code == 404
    assert (await http.get("/api/v1/workspaces/acme")).status_code == 401
    r = await http.get("/api/v1/workspaces/acme", headers=bearer(world.tokens["agent"]))
    assert r.status_code == 403


async def test_channels(world: World) -> None:
    http = world.api.http
    got = await http.get("/api/v1/channels/secret", headers=ADMIN)
    assert got.status_code == 200
    assert got.json()["private"] is True
    assert got.json()["workspaceId"] == "acme"
    patched = await http.patch("/api/v1/channels/secret", json={"private": False}, headers=ADMIN)
    assert patched.status_code == 200
    assert patched.json()["private"] is False
    # Now public: anonymous polling works.
    assert (await http.get("/api/v1/channels/secret/events")).status_code == 200
    bad = await http.patch("/api/v1/channels/secret", json={"colour": "red"}, headers=ADMIN)
    assert bad.status_code == 400
    assert bad.json()["error"]["path"] == "colour"
    missing_ws = await http.post(
        "/api/v1/channels", json={"id": "c2", "name": "c2", "workspaceId": "nope"}, headers=ADMIN
    )
    assert missing_ws.status_code == 400
    await world.publish("market", {"data": 1})
    assert (await http.delete("/api/v1/channels/market", headers=ADMIN)).status_code == 204
    assert (await http.get("/api/v1/channels/market", headers=ADMIN)).status_code == 404
    assert (await http.delete("/api/v1/channels/market", headers=ADMIN)).status_code == 404
    assert (await http.get("/api/v1/channels/market/events")).status_code == 404


async def test_tokens(world: World) -> None:
    http = world.api.http
    r = await http.post(
        "/api/v1/tokens",
        json={"name": "bot", "kind": "publish", "channelIds": ["market"], "publisherId": "bot-1"},
        headers=ADMIN,
    )
    assert r.status_code == 201
    secret, token = r.json()["secret"], r.json()["token"]
    assert token["kind"] == "publish"
    assert token["channelIds"] == ["market"]
    assert "secret" not in token
    assert "secretHash" not in token
    listed = (await http.get("/api/v1/tokens", headers=ADMIN)).json()["tokens"]
    assert token["id"] in {t["id"] for t in listed}
    assert secret not in str(listed)
    assert (await world.publish("market", {"data": 1}, token=secret))["publisher_id"] == "bot-1"
    revoked = await http.delete(f"/api/v1/tokens/{token['id']}", headers=ADMIN)
    assert revoked.status_code == 200
    assert revoked.json()["revokedAt"] is not None
    after = await http.post(
        "/api/v1/channels/market/events", json={"data": 1}, headers=bearer(secret)
    )
    assert after.status_code == 401
    bad_kind = await http.post("/api/v1/tokens", json={"name": "x", "kind": "root"}, headers=ADMIN)
    assert bad_kind.status_code == 400
    assert bad_kind.json()["error"]["path"] == "kind"
    assert (await http.delete("/api/v1/tokens/nope", headers=ADMIN)).status_code == 404


async def test_lists(world: World) -> None:
    http = world.api.http
    r = await http.get("/api/v1/workspaces", headers=ADMIN)
    assert r.status_code == 200
    assert [w["id"] for w in r.json()["workspaces"]] == ["acme", "other"]
    page1 = (await http.get("/api/v1/channels?limit=2", headers=ADMIN)).json()
    assert [c["id"] for c in page1["channels"]] == ["elsewhere", "market"]
    assert page1["pageInfo"]["hasNextPage"] is True
    page2 = (
        await http.get(
            "/api/v1/channels", params={"after": page1["pageInfo"]["endCursor"]}, headers=ADMIN
        )
    ).json()
    assert [c["id"] for c in page2["channels"]] == ["secret"]
    acme = (await http.get("/api/v1/channels?workspaceId=acme", headers=ADMIN)).json()
    assert {c["id"] for c in acme["channels"]} == {"market", "secret"}
    assert (await http.get("/api/v1/channels?after=zzz", headers=ADMIN)).status_code == 400
    assert (await http.get("/api/v1/channels")).status_code == 401
