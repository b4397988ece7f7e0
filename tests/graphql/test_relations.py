"""Relation fields through loaders: parent, channel, workspace, children, connections."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy.engine import Engine

from tests.fixtures.app import Api
from tests.graphql.helpers import make_channel, make_token, publish, seed_basic

RELATIONS = """query($n: Int) {
  events(first: $n, orderBy: [{id: desc}]) {
    nodes {
      id
      parent { id }
      channel { id private workspace { id } }
      workspace { id name }
      children(first: 2) { totalCount nodes { id } pageInfo { hasNextPage } }
    }
  }
}"""


async def test_parent_children_channel_workspace(api: Api) -> None:
    await seed_basic(api)
    [root] = await publish(api, "pub", {"type": "root", "data": 1})
    kids = await publish(api, "pub", *({"data": i, "parentId": root["id"]} for i in range(3)))
    data = await api.ok(RELATIONS, {"n": 10})
    nodes = {node["id"]: node for node in data["events"]["nodes"]}
    top = nodes[root["id"]]
    assert top["parent"] is None
    assert top["channel"] == {"id": "pub", "private": False, "workspace": {"id": "w"}}
    assert top["workspace"] == {"id": "w", "name": "w"}
    assert top["children"]["totalCount"] == 3
    assert [n["id"] for n in top["children"]["nodes"]] == [kids[2]["id"], kids[1]["id"]]
    assert top["children"]["pageInfo"]["hasNextPage"] is True
    for kid in kids:
        assert nodes[kid["id"]]["parent"] == {"id": root["id"]}
        assert nodes[kid["id"]]["children"]["totalCount"] == 0


async def test_channel_and_workspace_event_connections(api: Api) -> None:
    await seed_basic(api)
    published = await publish(api, "pub", {"data": 1}, {"data": 2})
    data = await api.ok(
        """{ channel(id: "pub") { id events(orderBy: [{id: asc}]) { totalCount nodes { id } } }
             workspace(id: "w") { events(last: 1, orderBy: [{id: asc}]) { nodes { id } } } }"""
    )
    assert [n["id"] for n in data["channel"]["events"]["nodes"]] == [e["id"] for e in published]
    assert data["channel"]["events"]["totalCount"] == 2
    assert [n["id"] for n in data["workspace"]["events"]["nodes"]] == [published[1]["id"]]


async def test_private_parent_is_null_for_a_scoped_token(api: Api) -> None:
    await seed_basic(api)
    [secret_parent] = await publish(api, "priv", {"data": "secret"})
    [child] = await publish(api, "pub", {"data": "child", "parentId": secret_parent["id"]})
    reader = await make_token(api, kind="subscribe", channelIds=["pub"])
    query = "query($id: ID!) { event(id: $id) { parentId parent { id } } }"
    as_reader = await api.ok(query, {"id": child["id"]}, token=reader)
    assert as_reader["event"] == {"parentId": secret_parent["id"], "parent": None}
    as_admin = await api.ok(query, {"id": child["id"]})
    assert as_admin["event"]["parent"] == {"id": secret_parent["id"]}
    anonymous = await api.ok(query, {"id": secret_parent["id"]}, token=None)
    assert anonymous["event"] is None
    # The private parent does not match a parent filter either.
    data = await api.ok(
        "{ events(filter: {parent: {data: {isNull: false}}}) { nodes { id } } }", token=reader
    )
    assert data["events"]["nodes"] == []


@contextmanager
def count_statements() -> Iterator[list[str]]:
    # Every Engine of the process (the app's read and write engines alike).
    engine = Engine
    statements: list[str] = []

    def listener(*args: Any) -> None:
        if "channel_private" not in args[2]:  # the realtime tail reads on its own timer
            statements.append(args[2])

    sa_event.listen(engine, "before_cursor_execute", listener)
    try:
        yield statements
    finally:
        sa_event.remove(engine, "before_cursor_execute", listener)


async def test_statement_count_does_not_grow_with_the_page(api: Api) -> None:
    await seed_basic(api)
    await make_channel(api, "other", "w")
    [root] = await publish(api, "pub", {"data": 0})
    await publish(api, "pub", *({"data": i, "parentId": root["id"]} for i in range(30)))
    await publish(api, "other", *({"data": i, "parentId": root["id"]} for i in range(30)))
    counts = []
    # The newest events come first: every one of them has a parent, in both pages.
    for size in (1, 50):
        with count_statements() as statements:
            data = await api.ok(RELATIONS, {"n": size})
        assert len(data["events"]["nodes"]) == size
        counts.append(len(statements))
    assert counts[0] == counts[1], counts
