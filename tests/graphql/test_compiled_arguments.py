"""The fast paths' compiled argument conversion (``fast_path/arguments.py``) gives exactly
what Strawberry's ``convert_arguments`` gives: for ``publishEvents`` on generated values,
and for a schema of its own covering what it compiles (nested and listed inputs, enums,
optionals, fields without defaults); types it does not compile keep Strawberry's."""

from __future__ import annotations

from enum import Enum
from functools import partial
from typing import Any

import strawberry
from hypothesis import given, settings
from hypothesis import strategies as st
from strawberry.relay import GlobalID
from strawberry.types.arguments import StrawberryArgument, convert_arguments

from graphql_schema.fast_path.arguments import compile_arguments
from graphql_schema.schema import schema

REGISTRY, CONFIG = schema.schema_converter.scalar_registry, schema.config


def _arguments(of: strawberry.Schema, type_name: str, field: str) -> list[StrawberryArgument]:
    definition: Any = of.get_type_by_name(type_name)
    return next(f for f in definition.fields if f.python_name == field).arguments


def _same(arguments: list[StrawberryArgument], raw: dict[str, Any]) -> None:
    expected = convert_arguments(raw, arguments, scalar_registry=REGISTRY, config=CONFIG)
    compiled = compile_arguments(arguments, REGISTRY, CONFIG)(raw)
    assert compiled == expected
    assert [type(v) for v in compiled.values()] == [type(v) for v in expected.values()]


PUBLISH = _arguments(schema, "Mutation", "publish_events")
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=6,
)
event = st.fixed_dictionaries(
    {"data": json_values},
    optional={
        "type": st.none() | st.text(max_size=5),
        "meta": json_values,
        "subjectId": st.none() | st.text(max_size=5),
        "userId": st.none() | st.text(max_size=5),
        "parentId": st.none() | st.text(max_size=5),
    },
)


@settings(max_examples=200, deadline=None)
@given(
    events=st.lists(event, max_size=4),
    key=st.none() | st.text(max_size=5),
    with_key=st.booleans(),
)
def test_publish_events_arguments_convert_as_strawberry_converts_them(
    events: list[dict[str, Any]], key: str | None, with_key: bool
) -> None:
    raw: dict[str, Any] = {"channelId": "c", "events": events}
    if with_key:
        raw["idempotencyKey"] = key
    _same(PUBLISH, raw)


def test_publish_events_is_compiled() -> None:
    assert not isinstance(compile_arguments(PUBLISH, REGISTRY, CONFIG), partial)


@strawberry.enum
class Color(Enum):
    RED = "red"
    BLUE = "blue"


@strawberry.input
class Inner:
    x: int
    note: str | None  # no default: Strawberry sets None when it is not given
    tags: list[str] | None = strawberry.UNSET
    color: Color | None = None


@strawberry.input
class Outer:
    inner: Inner
    inners: list[Inner | None] | None = strawberry.UNSET
    name: str = "n"


@strawberry.type
class Query:
    @strawberry.field
    def f(
        self,
        outer: Outer,
        ids: list[strawberry.ID],
        color: Color = Color.RED,
        maybe_outer: Outer | None = None,
    ) -> int:
        return 0

    @strawberry.field
    def g(self, node: GlobalID) -> int:
        return 0


OWN = strawberry.Schema(Query)


def test_what_is_compiled_converts_as_strawberry_converts_it() -> None:
    arguments = _arguments(OWN, "Query", "f")
    assert not isinstance(compile_arguments(arguments, REGISTRY, CONFIG), partial)
    inner = {"x": 1, "tags": ["a"], "color": Color.BLUE}
    for raw in [
        {"outer": {"inner": {"x": 1}}, "ids": ["a", "b"]},
        {"outer": {"inner": inner, "inners": [inner, None], "name": "z"}, "ids": []},
        {"outer": {"inner": {"x": 2, "note": None, "tags": None}, "inners": None}, "ids": ["c"]},
        {"outer": {"inner": inner}, "ids": [], "color": Color.BLUE, "maybeOuter": None},
        {"outer": {"inner": inner}, "ids": [], "maybeOuter": {"inner": {"x": 3, "note": "n"}}},
    ]:
        _same(arguments, raw)


def test_a_list_is_copied() -> None:
    ids = ["a"]
    converted = compile_arguments(_arguments(OWN, "Query", "f"), REGISTRY, CONFIG)(
        {"outer": {"inner": {"x": 1}}, "ids": ids}
    )
    assert converted["ids"] == ids
    assert converted["ids"] is not ids


def test_what_strawberry_decodes_itself_keeps_its_conversion() -> None:
    arguments = _arguments(OWN, "Query", "g")
    assert isinstance(compile_arguments(arguments, REGISTRY, CONFIG), partial)
    _same(arguments, {"node": "VXNlcjox"})
