"""A subscription event rendered once per selection set has the bytes the executor gives.

``graphql_schema/subscription/render.py`` skips Strawberry's executor for selection sets of
row-backed ``Event`` fields. Here every generated selection set (fields, order, aliases,
``__typename``, ``replayed``) and generated row is run both ways: through the executor on
``Event.from_row`` (what the general path does per subscriber) and through the renderer,
and the JSON bytes must be equal. Selection sets the renderer does not serve must fall
back.
"""

from __future__ import annotations

import gc
import secrets
import tracemalloc
import weakref
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from graphql import (
    FieldNode,
    OperationDefinitionNode,
    execute_subscription_event,
    parse,
    validate,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from graphql_schema.fast_path.fields import FLAGS, SCALARS
from graphql_schema.schema import schema
from graphql_schema.subscription.frames import Rendered, RenderedEventExecutor
from graphql_schema.subscription.render import RenderCache, compile_selection, render
from graphql_schema.types.event import Event

FIELD_NAMES = sorted([*SCALARS["Event"], *FLAGS, "__typename"])
_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)
_id = st.text("0123456789ABCDEFGHJKMNPQRSTVWXYZ", min_size=1, max_size=26)
_text = st.none() | st.text()
_rows = st.fixed_dictionaries(
    {
        "id": _id,
        "seq": st.integers(1, 2**40),
        "type": _text,
        "channel_id": st.none() | _id,
        "workspace_id": st.none() | _id,
        "subject_id": _text,
        "user_id": _text,
        "parent_id": st.none() | _id,
        "publisher_id": _text,
        "publisher_name": _text,
        "data": _json,
        "meta": _json,
        "created_at": st.datetimes(
            min_value=datetime(1970, 1, 2),  # noqa: DTZ001 (naive bounds; UTC is attached)
            max_value=datetime(2200, 1, 1),  # noqa: DTZ001
            timezones=st.just(UTC),
        ),
    }
)
_selection = st.lists(
    st.tuples(st.sampled_from(FIELD_NAMES), st.none() | st.sampled_from(["a", "b", "x_1"])),
    min_size=1,
    max_size=8,
)


def _document(selection: list[tuple[str, str | None]], root_alias: str | None) -> str:
    # Validation refuses one alias for two different fields; keep the first of each.
    seen: dict[str, str] = {}
    parts = []
    for name, alias in selection:
        out = alias or name
        if seen.setdefault(out, name) != name:
            continue
        parts.append(f"{alias}: {name}" if alias else name)
    root = f"{root_alias}: events" if root_alias else "events"
    return f"subscription {{ {root} {{ {' '.join(parts)} }} }}"


def _field_nodes(document: str) -> list[FieldNode]:
    operation = parse(document).definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    return [n for n in operation.selection_set.selections if isinstance(n, FieldNode)]


def _general(document: str, row: dict[str, Any], replayed: bool) -> bytes:
    executor = RenderedEventExecutor.build(schema._schema, parse(document))
    assert isinstance(executor, RenderedEventExecutor)
    event = Event.from_row(row, replayed=replayed)
    result = execute_subscription_event(executor.build_per_event_executor(event))
    assert not hasattr(result, "__await__")
    assert result.errors is None, result.errors
    return orjson.dumps(result.data)


@settings(max_examples=300, deadline=None)
@given(
    selection=_selection,
    root_alias=st.none() | st.just("live"),
    row=_rows,
    replayed=st.booleans(),
)
def test_rendered_bytes_equal_the_executors(
    selection: list[tuple[str, str | None]],
    root_alias: str | None,
    row: dict[str, Any],
    replayed: bool,
) -> None:
    document = _document(selection, root_alias)
    assert validate(schema._schema, parse(document)) == []
    plan = compile_selection(_field_nodes(document))
    assert plan is not None, document
    assert orjson.dumps(render(plan, row, replayed)) == _general(document, row, replayed)


def test_the_executor_returns_a_rendered_event_as_is() -> None:
    document = "subscription { events { id replayed } }"
    rendered = Rendered('{"events":{"id":"01X","replayed":true}}')
    executor = RenderedEventExecutor.build(schema._schema, parse(document))
    assert isinstance(executor, RenderedEventExecutor)
    result = execute_subscription_event(executor.build_per_event_executor(rendered))
    encoded = orjson.dumps({"data": result.data})
    assert encoded == b'{"data":{"events":{"id":"01X","replayed":true}}}'


@pytest.mark.parametrize(
    "document",
    [
        "subscription { events { id ...F } } fragment F on Event { type }",
        "subscription { events { id type @include(if: true) } }",
        "subscription { events @include(if: true) { id } }",
        "subscription { events { id parent { id } } }",
        "subscription { events { id channel { name } } }",
        "subscription { events { children(first: 1) { nodes { id } } } }",
        "subscription { events { ... on Event { id } } }",
    ],
)
def test_other_selections_take_the_general_path(document: str) -> None:
    assert compile_selection(_field_nodes(document)) is None


def test_the_cache_keys_on_plan_event_and_replay() -> None:
    cache = RenderCache(max_entries=2)
    plan = compile_selection(_field_nodes("subscription { events { id replayed } }"))
    other = compile_selection(_field_nodes("subscription { events { replayed id } }"))
    assert plan is not None
    assert other is not None
    row = {"id": "E1"}
    live, again = cache.get(plan, row, False), cache.get(plan, row, False)
    assert live is again  # shared between subscribers
    assert cache.get(plan, row, True) is not live
    encoded = orjson.dumps(cache.get(other, row, False).data)
    assert encoded == b'{"events":{"replayed":false,"id":"E1"}}'
    assert len(cache._entries) == 2  # bounded
    assert cache.get(plan, row, False) is not live  # the oldest went first


def test_the_cache_is_bounded_by_bytes() -> None:
    cache = RenderCache(max_bytes=10_000)
    plan = compile_selection(_field_nodes("subscription { events { id data } }"))
    assert plan is not None
    for n in range(10):
        cache.get(plan, {"id": f"E{n}", "data": "x" * 3000}, False)
    assert len(cache._entries) == 3
    assert cache._bytes == sum(size for _, size in cache._entries.values())
    assert cache._bytes <= 10_000


def test_the_cache_holds_what_it_counts() -> None:
    """orjson's bytes keep their worst-case buffer (8x a long string's length): the cache
    keeps copies, or its byte bound would be an eighth of the memory it holds."""
    cache = RenderCache(max_entries=1000, max_bytes=2**30)
    plan = compile_selection(_field_nodes("subscription { events { id data } }"))
    assert plan is not None
    rows = [{"id": f"E{n}", "data": secrets.token_hex(16_000)} for n in range(50)]
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for row in rows:
            cache.get(plan, row, False)
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert cache._bytes > 50 * 32_000
    assert held < 1.5 * cache._bytes, (held, cache._bytes)


def test_an_executor_is_freed_without_the_cyclic_gc() -> None:
    """graphql-core's executor is a reference cycle through its ``async_helpers``; the
    schema's executor breaks it, so an operation's context (the HTTP request and its body)
    and variables go when the operation ends, not at the next full collection."""
    executor = RenderedEventExecutor.build(schema._schema, parse("{ __typename }"))
    assert isinstance(executor, RenderedEventExecutor)
    gone = weakref.ref(executor)
    gc.disable()
    try:
        del executor
        assert gone() is None
    finally:
        gc.enable()
