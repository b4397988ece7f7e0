"""Seed 000: GET /api/events/export.ndjson — streamed, filtered, incremental, gzip."""

from __future__ import annotations

import gzip
import json
import zlib

import httpx
import orjson

from tests.rest.conftest import ADMIN, World, bearer


async def _seed(world: World, n: int = 12) -> list[str]:
    events = await world.publish_many(
        "market", [{"type": "even" if i % 2 == 0 else "odd", "data": {"i": i}} for i in range(n)]
    )
    await world.publish("elsewhere", {"type": "even", "data": {"hidden": True}})
    return [e["id"] for e in events]


async def test_export_streams_ndjson_ascending(world: World) -> None:
    ids = await _seed(world)
    r = await world.api.http.get(
        "/api/events/export.ndjson",
        headers={**bearer(world.tokens["reader"]), "Accept-Encoding": "identity"},
    )
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/x-ndjson")
    assert "content-encoding" not in r.headers
    lines = r.content.splitlines()
    events = [orjson.loads(line) for line in lines]
    assert [e["id"] for e in events] == sorted(ids)  # `elsewhere` is not readable
    assert set(events[0]) >= {"id", "type", "channelId", "workspaceId", "data", "meta", "createdAt"}
    assert r.content.endswith(b"\n")


async def test_export_filter_shorthand_and_after(world: World) -> None:
    ids = sorted(await _seed(world))
    http = world.api.http
    r = await http.get(
        "/api/events/export.ndjson",
        params={"filter": json.dumps({"type": {"eq": "odd"}}), "channel": "ignored"},
        headers=ADMIN,
    )
    assert {orjson.loads(line)["type"] for line in r.content.splitlines()} == {"odd"}
    r = await http.get("/api/events/export.ndjson?type=even&workspace_id=acme", headers=ADMIN)
    assert len(r.content.splitlines()) == 6
    r = await http.get("/api/events/export.ndjson", params={"after": ids[5]}, headers=ADMIN)
    exported = [orjson.loads(line)["id"] for line in r.content.splitlines()]
    assert exported[: len(ids) - 6] == ids[6:]


async def test_export_many_batches(world: World) -> None:
    await world.publish_many("market", [{"data": i} for i in range(703)])
    await world.publish_many("market", [{"data": i} for i in range(500)])
    r = await world.api.http.get("/api/events/export.ndjson", headers=ADMIN)
    ids = [orjson.loads(line)["id"] for line in r.content.splitlines()]
    assert len(ids) == 1203
    assert ids == sorted(ids)
    assert len(set(ids)) == 1203


async def test_export_gzip_when_asked(world: World) -> None:
    ids = await _seed(world)
    request = world.api.http.build_request(
        "GET", "/api/events/export.ndjson", headers={**ADMIN, "Accept-Encoding": "gzip"}
    )
    response = await world.api.http.send(request, stream=True)
    try:
        assert response.headers["content-encoding"] == "gzip"
        raw = b"".join([chunk async for chunk in response.aiter_raw()])
    finally:
        await response.aclose()
    assert raw[:2] == b"\x1f\x8b"
    lines = gzip.decompress(raw).splitlines()
    assert len(lines) == len(ids) + 1
    assert zlib.decompress(raw, 16 + zlib.MAX_WBITS) == gzip.decompress(raw)


async def test_export_errors(world: World) -> None:
    http = world.api.http
    assert (await http.get("/api/events/export.ndjson")).status_code == 401
    r = await http.get("/api/events/export.ndjson?filter={bad", headers=ADMIN)
    assert r.status_code == 400
    assert r.json()["error"]["path"] == "filter"
    r = await http.get(
        "/api/events/export.ndjson?filter=%7B%22type%22%3A%7B%22x%22%3A1%7D%7D", headers=ADMIN
    )
    assert r.status_code == 400
    assert r.json()["error"]["path"] == "filter.type.x"
    empty = await http.get("/api/events/export.ndjson", headers=ADMIN)
    assert empty.status_code == 200
    assert empty.content == b""
    assert isinstance(empty, httpx.Response)
