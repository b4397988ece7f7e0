"""SQL filter compiler == in-memory evaluator, on the database ``--db`` selects.

One varied dataset (NULLs, Unicode, LIKE metacharacters, nested JSON with arrays, numbers,
strings, booleans and nulls, parents/children across private channels) is inserted per
test; hypothesis then generates filters over the whole AST and read scopes, and each
filter's SQL result set must equal the memory evaluator's.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterable
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from db.database import Database
from db.query.ast import (
    And,
    Compare,
    Filter,
    JsonDoc,
    JsonPath,
    Not,
    Or,
    Related,
)
from db.query.filter_memory import matches
from db.query.filter_sql import compile_filter
from db.query.scope import ReadScope, readable
from db.tables import events_table
from tests.db.rows import at, insert_channel, insert_events, insert_workspaces

STRINGS = [
    "apple",
    "Apple",
    "APPLE",
    "app",
    "éclair",
    "Éclair",
    "ÉCLAIR",
    "a%b",
    "a_b",
    "axb",
    "a\\b",
    "ß",
    "straße",
    "İstanbul",
    "istanbul",
    "日本",
    "Ω",
    "ω",
    "z",
    "",
    "10",
    "9",
]
PATTERNS = [
    "app%",
    "%LE",
    "a\\%b",
    "a_b",
    "a\\_b",
    "%",
    "_",
    "",
    "é%",
    "É%",
    "%\\",
    "a\\b",
    "a\\\\b",
    "i%",
    "İ%",
    "%ω",
    "_____",
]
JSON_SCALARS: list[Any] = [
    0,
    1,
    -1,
    1.5,
    2,
    2.0,
    -0.5,
    "a",
    "b",
    "A",
    "é",
    "",
    "10",
    "9",
    True,
    False,
    None,
]
KEYS = ["a", "b", "arr", "n", "s", "0", "-1", "x", "missing"]
PATHS: list[tuple[str, ...]] = [
    (),
    ("a",),
    ("a", "b"),
    ("arr",),
    ("arr", "0"),
    ("arr", "1"),
    ("arr", "1", "x"),
    ("n",),
    ("s",),
    ("0",),
    ("-1",),
    ("1",),
    ("arr", "-1"),
    ("arr", " 1"),
    ("arr", "01"),
    ("missing",),
    ("0", "x"),
]
CHANNELS = [
    ("pub1", "w1", False),
    ("priv1", "w1", True),
    ("pub2", "w2", False),
    ("priv2", "w2", True),
]
SCOPES = [
    ReadScope(admin=True),
    ReadScope(),
    ReadScope(channel_ids=frozenset({"priv1"})),
    ReadScope(workspace_ids=frozenset({"w2"})),
    ReadScope(channel_ids=frozenset({"priv2"}), workspace_ids=frozenset({"w1"})),
]
IDS = [f"e{n:02d}" for n in range(48)]
TIMES = [at(n * 0.5) for n in range(8)]


def _json_value(rng: random.Random, depth: int = 0) -> Any:
    roll = rng.random()
    if depth >= 2 or roll < 0.55:
        return rng.choice(JSON_SCALARS)
    if roll < 0.8:
        return [_json_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    return {k: _json_value(rng, depth + 1) for k in rng.sample(KEYS[:8], rng.randint(0, 3))}


def _document(rng: random.Random) -> Any:
    roll = rng.random()
    if roll < 0.12:
        return None
    if roll < 0.2:
        return rng.choice(JSON_SCALARS[:-1])
    if roll < 0.32:
        return [_json_value(rng), {"x": _json_value(rng)}, _json_value(rng)][: rng.randint(1, 3)]
    doc: dict[str, Any] = {}
    for key in rng.sample(["a", "arr", "n", "s", "0", "-1"], rng.randint(1, 5)):
        if key == "a":
            doc[key] = rng.choice([{"b": _json_value(rng)}, _json_value(rng)])
        elif key == "arr":
            doc[key] = [_json_value(rng), {"x": _json_value(rng)}][: rng.randint(0, 2)]
        elif key == "s":
            doc[key] = rng.choice(STRINGS)
        else:
            doc[key] = _json_value(rng)
    return doc


def _maybe(rng: random.Random, pool: list[str], none: float = 0.3) -> str | None:
    return None if rng.random() < none else rng.choice(pool)


def make_events(seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    events: list[dict[str, Any]] = []
    for n, id in enumerate(IDS):
        channel, workspace, _ = rng.choice(CHANNELS)
        parent = None
        if n and rng.random() < 0.5:
            parent = rng.choice([*IDS[:n], "gone"])
        events.append(
            {
                "id": id,
                "type": _maybe(rng, STRINGS, 0.15),
                "channel_id": channel,
                "workspace_id": workspace,
                "subject_id": _maybe(rng, STRINGS[:6]),
                "user_id": _maybe(rng, ["u1", "u2", "U1"]),
                "parent_id": parent,
                "publisher_id": _maybe(rng, ["p1", "p2"], 0.5),
                "created_at": rng.choice(TIMES),
                "data": _document(rng),
                "meta": _document(rng) if rng.random() < 0.5 else None,
            }
        )
    return events


# --- filter strategies ---------------------------------------------------------------------

strings = st.sampled_from(STRINGS)
json_values = st.recursive(
    st.sampled_from(JSON_SCALARS),
    lambda inner: (
        st.lists(inner, max_size=2) | st.dictionaries(st.sampled_from(KEYS), inner, max_size=2)
    ),
    max_leaves=4,
)
ID_FIELDS = [
    "id",
    "channel_id",
    "workspace_id",
    "subject_id",
    "user_id",
    "parent_id",
    "publisher_id",
]
ID_VALUES = st.sampled_from(
    [*IDS[:6], "gone", "pub1", "priv1", "w1", "w2", *STRINGS[:6], "u1", "p1"]
)


def _string_compare(field: str, values: st.SearchStrategy[str]) -> st.SearchStrategy[Filter]:
    return st.one_of(
        st.builds(
            Compare,
            st.just(field),
            st.sampled_from(["eq", "neq", "lt", "lte", "gt", "gte"]),
            values,
        ),
        st.builds(
            Compare,
            st.just(field),
            st.sampled_from(["in", "notIn"]),
            st.lists(values, max_size=3).map(tuple),
        ),
        st.builds(
            Compare,
            st.just(field),
            st.sampled_from(["like", "ilike"]),
            st.sampled_from(PATTERNS) | values,
        ),
        st.builds(
            Compare,
            st.just(field),
            st.sampled_from(["startsWith", "endsWith", "contains"]),
            st.sampled_from(["a", "%", "_", "\\", "É", "ß", "pp", ""]) | values,
        ),
        st.builds(Compare, st.just(field), st.just("isNull"), st.booleans()),
    )


def _time_compare(field: str) -> st.SearchStrategy[Filter]:
    times = st.sampled_from(TIMES)
    return st.one_of(
        st.builds(
            Compare, st.just(field), st.sampled_from(["eq", "neq", "lt", "lte", "gt", "gte"]), times
        ),
        st.builds(
            Compare,
            st.just(field),
            st.sampled_from(["in", "notIn"]),
            st.lists(times, max_size=3).map(tuple),
        ),
        st.builds(Compare, st.just(field), st.just("isNull"), st.booleans()),
    )


json_leaves = st.one_of(
    st.builds(JsonDoc, st.sampled_from(["data", "meta"]), st.just("contains"), json_values),
    st.builds(JsonDoc, st.sampled_from(["data", "meta"]), st.just("hasKey"), st.sampled_from(KEYS)),
    st.builds(
        JsonDoc,
        st.sampled_from(["data", "meta"]),
        st.sampled_from(["hasAnyKeys", "hasAllKeys"]),
        st.lists(st.sampled_from(KEYS), max_size=3).map(tuple),
    ),
    st.builds(JsonDoc, st.sampled_from(["data", "meta"]), st.just("isNull"), st.booleans()),
    st.builds(
        JsonPath,
        st.sampled_from(["data", "meta"]),
        st.sampled_from(PATHS),
        st.sampled_from(["eq", "neq", "lt", "lte", "gt", "gte"]),
        json_values,
    ),
    st.builds(
        JsonPath,
        st.sampled_from(["data", "meta"]),
        st.sampled_from(PATHS),
        st.just("in"),
        st.lists(json_values, max_size=3).map(tuple),
    ),
    st.builds(
        JsonPath,
        st.sampled_from(["data", "meta"]),
        st.sampled_from(PATHS),
        st.just("exists"),
        st.booleans(),
    ),
)

event_leaves = st.one_of(
    st.sampled_from(ID_FIELDS).flatmap(lambda f: _string_compare(f, ID_VALUES)),
    _string_compare("type", strings),
    _time_compare("created_at"),
    json_leaves,
)
workspace_leaves = st.one_of(
    _string_compare("id", st.sampled_from(["w1", "w2", "w"])),
    _string_compare("name", st.sampled_from(["W1", "W2", "w1"])),
    _time_compare("created_at"),
)
channel_leaves = st.one_of(
    _string_compare("id", st.sampled_from([c[0] for c in CHANNELS])),
    _string_compare("name", st.sampled_from(["Pub1", "Priv1", "pub1"])),
    _string_compare("workspace_id", st.sampled_from(["w1", "w2"])),
    st.builds(Compare, st.just("private"), st.sampled_from(["eq", "neq"]), st.booleans()),
    st.builds(Compare, st.just("private"), st.just("isNull"), st.booleans()),
    _time_compare("created_at"),
)


def _logic(leaves: st.SearchStrategy[Filter], extend: Any = None) -> st.SearchStrategy[Filter]:
    def grow(inner: st.SearchStrategy[Filter]) -> st.SearchStrategy[Filter]:
        options = [
            st.lists(inner, max_size=3).map(lambda xs: And(tuple(xs))),
            st.lists(inner, max_size=3).map(lambda xs: Or(tuple(xs))),
            inner.map(Not),
        ]
        if extend is not None:
            options.append(extend(inner))
        return st.one_of(*options)

    return st.recursive(leaves, grow, max_leaves=6)


workspace_filters = _logic(workspace_leaves)
quantifiers = st.sampled_from(["some", "every", "none"])


def _channel_relations(inner: st.SearchStrategy[Filter]) -> st.SearchStrategy[Filter]:
    return st.one_of(
        workspace_filters.map(lambda f: Related("workspace", f)),
        st.builds(Related, st.just("events"), _logic(event_leaves), quantifiers),
    )


channel_filters = _logic(channel_leaves, _channel_relations)


def _event_relations(inner: st.SearchStrategy[Filter]) -> st.SearchStrategy[Filter]:
    return st.one_of(
        inner.map(lambda f: Related("parent", f)),
        st.builds(Related, st.just("children"), inner, quantifiers),
        channel_filters.map(lambda f: Related("channel", f)),
        workspace_filters.map(lambda f: Related("workspace", f)),
    )


event_filters = _logic(event_leaves, _event_relations)


# --- the two interpreters ------------------------------------------------------------------


class Memory:
    """``Relations`` over the dataset, restricted to what ``scope`` reads."""

    def __init__(self, events: list[dict[str, Any]], scope: ReadScope) -> None:
        self.scope = scope
        self.channels = {
            c: {
                "id": c,
                "name": c.title(),
                "workspace_id": w,
                "private": p,
                "created_at": at(len(c)),
            }
            for c, w, p in CHANNELS
        }
        self.workspaces = {
            w: {"id": w, "name": w.upper(), "created_at": at(n)} for n, w in enumerate(["w1", "w2"])
        }
        self.events = [e for e in events if self.readable(e)]
        self.by_id = {e["id"]: e for e in self.events}

    def readable(self, event: dict[str, Any]) -> bool:
        channel = next(c for c in CHANNELS if c[0] == event["channel_id"])
        return self.scope.can_read(
            channel_id=channel[0], workspace_id=channel[1], channel_private=channel[2]
        )

    def parent(self, event: Any) -> Any:
        return self.by_id.get(event["parent_id"])

    def children(self, event: Any) -> Iterable[Any]:
        return [e for e in self.events if e["parent_id"] == event["id"]]

    def channel(self, row: Any) -> Any:
        return self.channels[row["channel_id"]]

    def workspace(self, row: Any) -> Any:
        return self.workspaces[row["workspace_id"]]

    def channel_events(self, channel: Any) -> Iterable[Any]:
        return [e for e in self.events if e["channel_id"] == channel["id"]]

    def select(self, f: Filter) -> set[str]:
        return {e["id"] for e in self.events if matches(f, e, "event", self)}


async def _setup(db: Database, seed: int) -> list[dict[str, Any]]:
    await insert_workspaces(db, "w1", "w2")
    for channel, workspace, private in CHANNELS:
        await insert_channel(db, channel, workspace, private=private)
    return await insert_events(db, make_events(seed))


async def _sql(db: Database, f: Filter, scope: ReadScope) -> set[str]:
    e = events_table
    stmt = select(e.c.id).where(readable(scope, e), compile_filter(f, "event", e, scope))
    async with db.read() as conn:
        return set((await conn.execute(stmt)).scalars())


def _run(database_url: str, seed: int, strategy: st.SearchStrategy[Filter], examples: int) -> None:
    loop = asyncio.new_event_loop()
    db = Database(database_url)
    try:
        events = loop.run_until_complete(_setup(db, seed))
        memories = [Memory(events, scope) for scope in SCOPES]

        @settings(
            max_examples=examples,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            database=None,
        )
        @given(f=strategy, which=st.integers(0, len(SCOPES) - 1))
        def check(f: Filter, which: int) -> None:
            memory = memories[which]
            expected = memory.select(f)
            actual = loop.run_until_complete(_sql(db, f, memory.scope))
            assert actual == expected, (f, memory.scope, sorted(actual ^ expected))

        check()
    finally:
        loop.run_until_complete(db.dispose())
        loop.close()


def test_scalar_and_json_leaves(database_url: str) -> None:
    _run(database_url, 1, st.one_of(event_leaves, json_leaves), 400)


def test_nested_filters_with_relations(database_url: str) -> None:
    _run(database_url, 2, event_filters, 300)


def test_nested_filters_other_dataset(database_url: str) -> None:
    _run(database_url, 3, event_filters, 200)
