"""Column filters: ``IDFilter``, ``StringFilter``, ``DateTimeFilter``, ``BooleanFilter``.

Every operator is a ``Maybe`` so that an explicit ``null`` (a client error) differs from an
absent operator (no constraint). Operators given together are ANDed.
"""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry import Some

from db.query.ast import Compare, Filter, ScalarOp
from graphql_schema.inputs.limits import FilterBudget, present
from graphql_schema.scalars import DateTime

# (python attribute, GraphQL name, AST operator)
_OPS: tuple[tuple[str, str, ScalarOp], ...] = (
    ("eq", "eq", "eq"),
    ("neq", "neq", "neq"),
    ("in_", "in", "in"),
    ("not_in", "notIn", "notIn"),
    ("lt", "lt", "lt"),
    ("lte", "lte", "lte"),
    ("gt", "gt", "gt"),
    ("gte", "gte", "gte"),
    ("like", "like", "like"),
    ("ilike", "ilike", "ilike"),
    ("starts_with", "startsWith", "startsWith"),
    ("ends_with", "endsWith", "endsWith"),
    ("contains", "contains", "contains"),
    ("is_null", "isNull", "isNull"),
)

EQ = "Equal to the value; false on NULL."
NEQ = "Exactly `NOT eq`: true on NULL."
IN = "Equal to one of the values (at most 500); false on NULL; `in: []` matches nothing."
NOT_IN = "Exactly `NOT in`: true on NULL; `notIn: []` matches everything."
LT = "Less than the value (strings by code point); false on NULL."
LTE = "Less than or equal to the value; false on NULL."
GT = "Greater than the value; false on NULL."
GTE = "Greater than or equal to the value; false on NULL."
IS_NULL = "`true`: the value is NULL; `false`: it is not. The only way to test for NULL."


def compare_ops(obj: Any, column: str, path: str, budget: FilterBudget) -> list[Filter]:
    """The ``Compare`` leaves of the operators given on ``obj`` (a column filter)."""
    leaves: list[Filter] = []
    for attr, name, op in _OPS:
        given: Some[Any] | None = getattr(obj, attr, None)
        if given is None:
            continue
        op_path = f"{path}.{name}"
        value = present(given, op_path)
        budget.leaf(op_path)
        if isinstance(value, list):
            value = budget.values(value, op_path)
        leaves.append(Compare(column, op, value))
    return leaves


@strawberry.input(description="Conditions on an ID column, ANDed together.")
class IDFilter:
    eq: strawberry.Maybe[strawberry.ID | None] = strawberry.field(description=EQ)
    neq: strawberry.Maybe[strawberry.ID | None] = strawberry.field(description=NEQ)
    in_: strawberry.Maybe[list[strawberry.ID] | None] = strawberry.field(name="in", description=IN)
    not_in: strawberry.Maybe[list[strawberry.ID] | None] = strawberry.field(description=NOT_IN)
    is_null: strawberry.Maybe[bool | None] = strawberry.field(description=IS_NULL)

    def to_query(self, column: str, path: str, budget: FilterBudget) -> list[Filter]:
        return compare_ops(self, column, path, budget)


@strawberry.input(
    description="Conditions on a text column, ANDed together. Text compares by code point."
)
class StringFilter:
    eq: strawberry.Maybe[str | None] = strawberry.field(description=EQ)
    neq: strawberry.Maybe[str | None] = strawberry.field(description=NEQ)
    in_: strawberry.Maybe[list[str] | None] = strawberry.field(name="in", description=IN)
    not_in: strawberry.Maybe[list[str] | None] = strawberry.field(description=NOT_IN)
    lt: strawberry.Maybe[str | None] = strawberry.field(description=LT)
    lte: strawberry.Maybe[str | None] = strawberry.field(description=LTE)
    gt: strawberry.Maybe[str | None] = strawberry.field(description=GT)
    gte: strawberry.Maybe[str | None] = strawberry.field(description=GTE)
    like: strawberry.Maybe[str | None] = strawberry.field(
        description="SQL LIKE pattern (`%` any run, `_` one character, `\\` escapes),"
        " case-sensitive; false on NULL."
    )
    ilike: strawberry.Maybe[str | None] = strawberry.field(
        description="Like `like`, folding case with Unicode lower-casing; false on NULL."
    )
    starts_with: strawberry.Maybe[str | None] = strawberry.field(
        description="Starts with the literal value (no wildcards), case-sensitive."
    )
    ends_with: strawberry.Maybe[str | None] = strawberry.field(
        description="Ends with the literal value (no wildcards), case-sensitive."
    )
    contains: strawberry.Maybe[str | None] = strawberry.field(
        description="Contains the literal value (no wildcards), case-sensitive."
    )
    is_null: strawberry.Maybe[bool | None] = strawberry.field(description=IS_NULL)

    def to_query(self, column: str, path: str, budget: FilterBudget) -> list[Filter]:
        return compare_ops(self, column, path, budget)


@strawberry.input(
    description="Conditions on a timestamp column (compared at millisecond precision)."
)
class DateTimeFilter:
    eq: strawberry.Maybe[DateTime | None] = strawberry.field(description=EQ)
    neq: strawberry.Maybe[DateTime | None] = strawberry.field(description=NEQ)
    in_: strawberry.Maybe[list[DateTime] | None] = strawberry.field(name="in", description=IN)
    not_in: strawberry.Maybe[list[DateTime] | None] = strawberry.field(description=NOT_IN)
    lt: strawberry.Maybe[DateTime | None] = strawberry.field(description="Strictly before.")
    lte: strawberry.Maybe[DateTime | None] = strawberry.field(description="At or before.")
    gt: strawberry.Maybe[DateTime | None] = strawberry.field(description="Strictly after.")
    gte: strawberry.Maybe[DateTime | None] = strawberry.field(description="At or after.")
    is_null: strawberry.Maybe[bool | None] = strawberry.field(description=IS_NULL)

    def to_query(self, column: str, path: str, budget: FilterBudget) -> list[Filter]:
        return compare_ops(self, column, path, budget)


@strawberry.input(description="Conditions on a boolean column.")
class BooleanFilter:
    eq: strawberry.Maybe[bool | None] = strawberry.field(description=EQ)
    is_null: strawberry.Maybe[bool | None] = strawberry.field(description=IS_NULL)

    def to_query(self, column: str, path: str, budget: FilterBudget) -> list[Filter]:
        return compare_ops(self, column, path, budget)


__all__ = ["BooleanFilter", "DateTimeFilter", "IDFilter", "StringFilter"]
