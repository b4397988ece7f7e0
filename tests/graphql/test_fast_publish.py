"""``publishEvents`` served without the general executor answers what Strawberry answers.

The differential test sends generated publish requests (valid and invalid events, strict
channels, missing channels, tokens of every kind, idempotency keys, literal arguments)
to an app with the shortcut and to one without it, both on one database, and compares the
bytes; documents select only the fields that do not differ between two publishes (not
``id`` or ``createdAt``), which the last test checks against the stored rows.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

from graphql_schema.fast_path.middleware import PlanCache
from graphql_schema.fast_path.publish import SERVED, PublishPlan
from tests.fixtures.app import ADMIN_SECRET, Api
from tests.fixtures.fast_paths import Request, run_differential, served
from tests.graphql.helpers import EVENT_FIELDS, make_channel, make_token, make_workspace

STABLE = "type channelId workspaceId subjectId userId parentId publisherId publisherName data meta"
HARNESS = (
    "mutation Publish($channelId: ID!, $events: [EventInput!]!) "
    "{ publishEvents(channelId: $channelId, events: $events) { id createdAt } }"
)
DOCUMENTS = [
    f"mutation($c: ID!, $e: [EventInput!]!) {{ publishEvents(channelId: $c, events: $e)"
    f" {{ {STABLE} __typename }} }}",
    "mutation P($c: ID!, $e: [EventInput!]!, $k: String) {"
    " a: publishEvents(channelId: $c, events: $e, idempotencyKey: $k) { t: type data } }",
    'mutation { publishEvents(channelId: "pub", events: [{type: "lit", data: {n: 1}}])'
    " { type data channelId } }",
    'mutation($e: [EventInput!]!) { publishEvents(channelId: "strict", events: $e) { type } }',
    # not planned (Strawberry answers both): a relation, two roots, the single-event field
    "mutation($c: ID!, $e: [EventInput!]!) { publishEvents(channelId: $c, events: $e)"
    " { type channel { id } } }",
    "mutation($c: ID!, $e: [EventInput!]!) { a: publishEvents(channelId: $c, events: $e)"
    " { type } b: publishEvents(channelId: $c, events: $e) { data } }",
    "mutation($c: ID!) { publishEvent(channelId: $c, event: {data: 1}) { type } }",
]
SCHEMA = {"type": "object", "required": ["n"], "properties": {"n": {"type": "integer"}}}
EVENTS: list[Any] = [
    [{"type": "a", "data": {"n": 1}}],
    [{"type": "a", "data": {"n": 1}}, {"data": [1, 2], "meta": {"m": True}, "subjectId": "s"}],
    [{"data": None}],
    [],
    [{"type": "typed", "data": {"n": "x"}}],
    [{"type": "typed", "data": {"n": 2}, "userId": "u"}],
    [{"type": "untyped", "data": 1}],
    [{"data": {"x": 1}, "parentId": "nope"}],
    [{"data": "x" * 70_000}],
    [{"data": 1, "meta": "m" * 17_000}],
    [{"data": {}, "bogus": 1}],
    [{"type": 5, "data": 1}],
    [{"type": "t" * 300, "data": 1}],
    {"data": 1},
    "x",
]


async def _setup(api: Api) -> dict[str, Any]:
    await make_workspace(api, "w")
    await make_channel(api, "pub", "w")
    await make_channel(api, "other", "w")
    await api.ok(
        "mutation($i: CreateChannelInput!) { createChannel(input: $i) { id } }",
        {
            "i": {
                "id": "strict",
                "name": "strict",
                "workspaceId": "w",
                "strictTypes": True,
                "schemas": {"typed": SCHEMA},
            }
        },
    )
    scoped = await make_token(api, kind="publish", channelIds=["pub"], publisherId="p-1")
    reader = await make_token(api, kind="subscribe")
    return {"secrets": [ADMIN_SECRET, scoped, reader]}


def _requests(context: dict[str, Any]) -> st.SearchStrategy[Request]:
    variables = st.fixed_dictionaries(
        {
            "c": st.sampled_from(["pub", "pub", "strict", "other", "missing", 5, None]),
            "e": st.sampled_from(EVENTS),
        },
        optional={"k": st.sampled_from(["k1", "k2", "", None])},
    ) | st.sampled_from([{}, {"e": EVENTS[0]}])
    payload = st.fixed_dictionaries(
        {"query": st.sampled_from(DOCUMENTS[:4] * 3 + DOCUMENTS[4:]), "variables": variables},
        optional={"operationName": st.sampled_from([None, None, "P", "Nope"])},
    )
    bearer = st.sampled_from(context["secrets"]).map(lambda s: (("Authorization", f"Bearer {s}"),))
    auth = st.one_of(
        bearer,
        bearer,
        bearer,
        st.just(()),
        st.just((("Authorization", "Bearer nope"),)),
    )
    return st.builds(
        lambda value, headers: Request(
            "POST",
            "/graphql",
            headers=(*headers, ("Content-Type", "application/json")),
            content=json.dumps(value).encode(),
        ),
        payload,
        auth,
    )


def test_the_harness_publish_is_planned() -> None:
    assert SERVED
    assert isinstance(PlanCache().get(HARNESS, None), PublishPlan)
    assert isinstance(PlanCache().get(DOCUMENTS[2], None), PublishPlan)
    for document in DOCUMENTS[4:]:
        assert PlanCache().get(document, None) is None, document


def test_shortcut_and_strawberry_publish_byte_for_byte(database_url: str) -> None:
    run_differential(
        database_url,
        setup=_setup,
        requests=_requests,
        path="graphql",
        examples=250,
        min_served=0.2,
    )


async def test_ids_and_times_answered_are_those_stored(api: Api) -> None:
    await make_workspace(api, "w")
    await make_channel(api, "pub", "w")
    before = served("graphql")
    data = await api.ok(
        HARNESS, {"channelId": "pub", "events": [{"type": "a", "data": 1}, {"data": 2}]}
    )
    assert served("graphql") == before + 1
    answered = data["publishEvents"]
    stored = await api.ok(f"{{ events(orderBy: [{{id: asc}}]) {{ nodes {{ {EVENT_FIELDS} }} }} }}")
    nodes = stored["events"]["nodes"]
    assert answered == [{"id": n["id"], "createdAt": n["createdAt"]} for n in nodes]
