from __future__ import annotations

from tests.fixtures.app import Api
from tests.graphql.helpers import EVENT_FIELDS, publish, seed_basic


async def test_publish_and_list(api: Api) -> None:
    await seed_basic(api)
    published = await publish(api, "pub", {"type": "a", "data": {"n": 1}}, {"type": "b", "data": 2})
    data = await api.ok(
        f"{{ events {{ nodes {{ {EVENT_FIELDS} }} totalCount pageInfo {{ hasNextPage endCursor }} }} }}"
    )
    assert [e["id"] for e in data["events"]["nodes"]] == [published[1]["id"], published[0]["id"]]
    assert data["events"]["totalCount"] == 2
