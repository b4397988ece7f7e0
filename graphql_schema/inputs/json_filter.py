"""``JSONFilter`` and ``JSONPathFilter``: conditions on the ``data`` / ``meta`` documents."""

from __future__ import annotations

from typing import Any, Literal

import strawberry
from strawberry import Some

from db.query.ast import Filter, JsonDoc, JsonPath, JsonPathOp
from graphql_schema.inputs.limits import FilterBudget, present
from graphql_schema.scalars import JSON

_PATH_OPS: tuple[tuple[str, str, JsonPathOp], ...] = (
    ("eq", "eq", "eq"),
    ("neq", "neq", "neq"),
    ("in_", "in", "in"),
    ("lt", "lt", "lt"),
    ("lte", "lte", "lte"),
    ("gt", "gt", "gt"),
    ("gte", "gte", "gte"),
    ("exists", "exists", "exists"),
)


@strawberry.input(
    description="A condition on the value at `path` inside the document. Comparing values"
    " of different JSON types is false."
)
class JSONPathFilter:
    path: list[str] = strawberry.field(
        description="Object keys from the top of the document; a step of digits also"
        ' indexes an array (`["items", "0", "sku"]`).'
    )
    eq: strawberry.Maybe[JSON | None] = strawberry.field(
        description="Equal to the JSON value; `eq: null` matches a JSON null at the path."
    )
    neq: strawberry.Maybe[JSON | None] = strawberry.field(
        description="Exactly `NOT eq`: true when the path is missing."
    )
    in_: strawberry.Maybe[list[JSON] | None] = strawberry.field(
        name="in", description="Equal to one of the JSON values (at most 500)."
    )
    lt: strawberry.Maybe[JSON | None] = strawberry.field(
        description="Less than: numbers numerically, strings by code point; false for"
        " booleans, null, arrays, objects and mixed types."
    )
    lte: strawberry.Maybe[JSON | None] = strawberry.field(description="Less than or equal.")
    gt: strawberry.Maybe[JSON | None] = strawberry.field(description="Greater than.")
    gte: strawberry.Maybe[JSON | None] = strawberry.field(description="Greater than or equal.")
    exists: strawberry.Maybe[bool | None] = strawberry.field(
        description="`true`: the path resolves (even to JSON null); `false`: it does not."
    )

    def to_query(
        self, field: Literal["data", "meta"], path: str, budget: FilterBudget
    ) -> list[Filter]:
        steps = tuple(self.path)
        leaves: list[Filter] = []
        for attr, name, op in _PATH_OPS:
            given: Some[Any] | None = getattr(self, attr)
            if given is None:
                continue
            op_path = f"{path}.{name}"
            value = given.value if op == "eq" else present(given, op_path)
            budget.leaf(op_path)
            if op == "in":
                value = budget.values(value, op_path)
            leaves.append(JsonPath(field, steps, op, value))
        return leaves


@strawberry.input(description="Conditions on a JSON document column, ANDed together.")
class JSONFilter:
    contains: strawberry.Maybe[JSON | None] = strawberry.field(
        description="The document contains this JSON value (PostgreSQL `@>` semantics)."
    )
    has_key: strawberry.Maybe[str | None] = strawberry.field(
        description="The document is an object with this top-level key."
    )
    has_any_keys: strawberry.Maybe[list[str] | None] = strawberry.field(
        description="The document is an object with at least one of these top-level keys"
        " (`[]` is false)."
    )
    has_all_keys: strawberry.Maybe[list[str] | None] = strawberry.field(
        description="The document is an object with all of these top-level keys (`[]` is true)."
    )
    path: strawberry.Maybe[JSONPathFilter | None] = strawberry.field(
        description="Conditions on a nested value."
    )
    is_null: strawberry.Maybe[bool | None] = strawberry.field(
        description="`true`: the document is SQL NULL or JSON null; `false`: it is neither."
    )

    def to_query(
        self, field: Literal["data", "meta"], path: str, budget: FilterBudget
    ) -> list[Filter]:
        leaves: list[Filter] = []
        if self.contains is not None:
            leaves.append(self._doc(field, "contains", self.contains, path, budget))
        if self.has_key is not None:
            leaves.append(self._doc(field, "hasKey", self.has_key, path, budget))
        if self.has_any_keys is not None:
            leaves.append(self._doc(field, "hasAnyKeys", self.has_any_keys, path, budget))
        if self.has_all_keys is not None:
            leaves.append(self._doc(field, "hasAllKeys", self.has_all_keys, path, budget))
        if self.path is not None:
            sub = f"{path}.path"
            leaves.extend(present(self.path, sub).to_query(field, sub, budget))
        if self.is_null is not None:
            leaves.append(self._doc(field, "isNull", self.is_null, path, budget))
        return leaves

    @staticmethod
    def _doc(
        field: Literal["data", "meta"],
        op: Literal["contains", "hasKey", "hasAnyKeys", "hasAllKeys", "isNull"],
        given: Some[Any],
        path: str,
        budget: FilterBudget,
    ) -> Filter:
        op_path = f"{path}.{op}"
        value = present(given, op_path)
        budget.leaf(op_path)
        if isinstance(value, list):
            value = budget.values(value, op_path)
        return JsonDoc(field, op, value)
