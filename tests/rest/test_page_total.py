"""A page and its total come from one snapshot, under concurrent publishers and deletes.

Publishers keep publishing and deleting events, so the set changes all the time but stays
smaller than a page: every page then holds every matching event of its snapshot, and its
total must equal the rows shown (REST ``pageInfo.total``, GraphQL ``totalCount`` on the
fast path and, through a fragment, on the general executor).
"""

from __future__ import annotations

import asyncio
from typing import Any

from tests.fixtures.app import ADMIN_SECRET, Api

HEADERS = {"Authorization": f"Bearer {ADMIN_SECRET}"}
PLAIN = "{ events(first: 100) { totalCount nodes { id } pageInfo { hasNextPage } } }"
FRAGMENT = (
    "query { events(first: 100) { ...counted nodes { id } pageInfo { hasNextPage } } }"
    " fragment counted on EventConnection { totalCount }"
)


async def _churn(api: Api, stop: asyncio.Event) -> None:
    while not stop.is_set():
        published = await api.http.post(
            "/api/v1/channels/c/events", json={"events": [{"data": 1}] * 3}, headers=HEADERS
        )
        assert published.status_code == 201, published.text
        for event in published.json()["events"]:
            deleted = await api.http.delete(
                f"/api/v1/channels/c/events/{event['id']}", headers=HEADERS
            )
            assert deleted.status_code == 204, deleted.text


async def _pages(api: Api) -> list[tuple[int, int]]:
    """(total, rows) of complete pages read through every path."""
    seen: list[tuple[int, int]] = []
    for _ in range(25):
        rest = await api.http.get("/api/events?limit=100", headers=HEADERS)
        assert rest.status_code == 200, rest.text
        body: dict[str, Any] = rest.json()
        assert not body["pageInfo"]["hasNextPage"]
        seen.append((body["pageInfo"]["total"], len(body["data"])))
        for query in (PLAIN, FRAGMENT):
            events = (await api.ok(query))["events"]
            assert not events["pageInfo"]["hasNextPage"]
            seen.append((events["totalCount"], len(events["nodes"])))
    return seen


async def test_total_is_taken_with_the_page(api: Api) -> None:
    for path, body in (
        ("/api/v1/workspaces", {"id": "w", "name": "w"}),
        ("/api/v1/channels", {"id": "c", "name": "c", "workspaceId": "w"}),
    ):
        assert (await api.http.post(path, json=body, headers=HEADERS)).status_code == 201
    stop = asyncio.Event()
    publishers = [asyncio.create_task(_churn(api, stop)) for _ in range(3)]
    try:
        seen = await _pages(api)
    finally:
        stop.set()
        await asyncio.gather(*publishers)
    assert [pair for pair in seen if pair[0] != pair[1]] == []
    assert any(rows for _, rows in seen), "the publishers never overlapped the readers"
