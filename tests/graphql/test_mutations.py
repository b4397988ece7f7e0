"""Management mutations, delete, replay, and the channel/workspace/token queries."""

from __future__ import annotations

from tests.fixtures.app import Api
from tests.graphql.helpers import make_token, publish, seed_basic


async def test_channels_and_workspaces_queries(api: Api) -> None:
    await seed_basic(api)
    data = await api.ok(
        "{ channels(filter: {private: {eq: false}}) { nodes { id } pageInfo { hasNextPage } }"
        " workspaces { nodes { id name } } }"
    )
    assert [n["id"] for n in data["channels"]["nodes"]] == ["pub"]
    assert data["workspaces"]["nodes"] == [{"id": "w", "name": "w"}]
    anonymous = await api.ok('{ channels { nodes { id } } channel(id: "priv") { id } }', token=None)
    assert [n["id"] for n in anonymous["channels"]["nodes"]] == ["pub"]
    assert anonymous["channel"] is None


async def test_update_and_delete_channel(api: Api) -> None:
    await seed_basic(api)
    data = await api.ok(
        'mutation { updateChannel(id: "pub", input: {name: "Public", strictTypes: true,'
        ' schemas: {a: {type: "object"}}}) { name private strictTypes schemas createdAt } }'
    )
    channel = data["updateChannel"]
    assert channel["name"] == "Public"
    assert (channel["private"], channel["strictTypes"]) == (False, True)
    assert channel["schemas"] == {"a": {"type": "object"}}
    assert channel["createdAt"].endswith("Z")
    assert len(channel["createdAt"]) == 24
    assert (await api.ok('mutation { deleteChannel(id: "pub") }'))["deleteChannel"] == "pub"
    assert (await api.ok('{ channel(id: "pub") { id } }'))["channel"] is None


async def test_tokens_create_list_revoke(api: Api) -> None:
    await seed_basic(api)
    data = await api.ok(
        "mutation($i: CreateTokenInput!) { createToken(input: $i) { secret token {"
        " id kind channelIds publisherId expiresAt revokedAt } } }",
        {
            "i": {
                "name": "pub",
                "kind": "publish",
                "channelIds": ["pub"],
                "publisherId": "p1",
                "expiresAt": "2999-01-01T00:00:00",
            }
        },
    )
    created = data["createToken"]
    assert created["token"]["expiresAt"] == "2999-01-01T00:00:00.000Z"  # naive means UTC
    assert created["token"]["kind"] == "publish"
    secret = created["secret"]
    [event] = await publish(api, "pub", {"data": 1})
    # Not the publisher of that event: forbidden; its own event: deleted.
    body = await api.graphql(
        "mutation($id: ID!) { deleteEvent(id: $id) }", {"id": event["id"]}, token=secret
    )
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    own = await api.ok(
        'mutation { publishEvent(channelId: "pub", event: {data: 2}) { id publisherId } }',
        token=secret,
    )
    own_id = own["publishEvent"]["id"]
    assert own["publishEvent"]["publisherId"] == "p1"
    deleted = await api.ok(
        "mutation($id: ID!) { deleteEvent(id: $id) }", {"id": own_id}, token=secret
    )
    assert deleted == {"deleteEvent": own_id}
    listed = await api.ok("{ tokens { id revokedAt } }")
    token_id = created["token"]["id"]
    assert {"id": token_id, "revokedAt": None} in listed["tokens"]
    revoked = await api.ok(
        "mutation($id: ID!) { revokeToken(id: $id) { revokedAt } }", {"id": token_id}
    )
    assert revoked["revokeToken"]["revokedAt"] is not None
    assert await api.error_code("{ events { nodes { id } } }", token=secret) == "UNAUTHENTICATED"


async def test_publish_errors_name_paths(api: Api) -> None:
    await seed_basic(api)
    body = await api.graphql(
        'mutation($e: [EventInput!]!) { publishEvents(channelId: "pub", events: $e) { id } }',
        {"e": [{"data": 1}, {"data": 1, "parentId": "missing"}]},
    )
    assert body["errors"][0]["extensions"] == {
        "code": "BAD_USER_INPUT",
        "path": "events[1].parentId",
    }
    assert (await api.ok("{ events { totalCount } }"))["events"]["totalCount"] == 0


async def test_replay_events(api: Api) -> None:
    await seed_basic(api)
    [event] = await publish(api, "pub", {"type": "a", "data": 1})
    data = await api.ok(
        "mutation($ids: [ID!]) { replayEvents(ids: $ids) { replayed errors { eventId error } } }",
        {"ids": [event["id"], "missing"]},
    )
    assert data["replayEvents"] == {
        "replayed": 1,
        "errors": [{"eventId": "missing", "error": "Event not found"}],
    }
    data = await api.ok('mutation { replayEvents(filter: {type: {eq: "a"}}) { replayed } }')
    assert data["replayEvents"]["replayed"] == 1
    assert (
        await api.error_code("mutation { replayEvents(ids: []) { replayed } }", token=None)
        == "UNAUTHENTICATED"
    )


async def test_replay_is_admin_only(api: Api) -> None:
    await seed_basic(api)
    await publish(api, "pub", {"type": "a", "data": 1})
    for token in (
        await make_token(api, kind="subscribe", channelIds=["pub"]),
        await make_token(api, kind="publish", channelIds=["pub"]),
    ):
        body = await api.graphql("mutation { replayEvents(filter: {}) { replayed } }", token=token)
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        assert body["data"] is None
