"""A 32 KB JSON filter on the query string through the real `eventgraph serve` (uvicorn)."""

from __future__ import annotations

import json

import httpx

from tests.fixtures.app import ADMIN_SECRET


def test_a_32_kb_filter_through_uvicorn(server: str) -> None:
    values = [f"type-{i:05d}-{'x' * 40}" for i in range(640)]
    filter_json = json.dumps(
        {"OR": [{"type": {"in": values[j : j + 100]}} for j in range(0, 640, 100)]}
    )
    assert len(filter_json) > 32 * 1024
    headers = {"Authorization": f"Bearer {ADMIN_SECRET}"}
    r = httpx.get(
        f"{server}/api/events", params={"filter": filter_json}, headers=headers, timeout=30
    )
    assert r.status_code == 200, r.text[:500]
    assert r.json()["data"] == []
    assert r.json()["pageInfo"]["total"] == 0
