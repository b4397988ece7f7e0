"""The parts every entity filter shares: ``AND`` / ``OR`` / ``NOT`` and the AND of fields."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from strawberry import Some

from db.query.ast import TRUE, And, Filter, Not, Or
from graphql_schema.inputs.limits import FilterBudget, present

AND_DESCRIPTION = "True when every filter is true; `AND: []` is true."
OR_DESCRIPTION = "True when any filter is true; `OR: []` is false."
NOT_DESCRIPTION = "True when the filter is false (exact complement, NULLs included)."

F = TypeVar("F")
Convert = Callable[[F, str, int, FilterBudget], Filter]


class ColumnFilter(Protocol):
    def to_query(self, column: str, path: str, budget: FilterBudget) -> list[Filter]: ...


class Logical(Protocol[F]):
    and_: Some[list[F] | None] | None
    or_: Some[list[F] | None] | None
    not_: Some[F | None] | None


def all_of(items: list[Filter]) -> Filter:
    """The AND of ``items`` without needless nesting (``{}`` is true)."""
    if not items:
        return TRUE
    if len(items) == 1:
        return items[0]
    return And(tuple(items))


def column_parts(
    columns: tuple[tuple[Any, str, str], ...], path: str, budget: FilterBudget
) -> list[Filter]:
    """Leaves of the column filters given as ``(Maybe[XFilter], column, GraphQL name)``."""
    parts: list[Filter] = []
    for given, column, name in columns:
        if given is not None:
            sub = f"{path}.{name}"
            column_filter: ColumnFilter = present(given, sub)
            parts.extend(column_filter.to_query(column, sub, budget))
    return parts


def logical_parts(
    obj: Logical[F], path: str, depth: int, budget: FilterBudget, convert: Convert[F]
) -> list[Filter]:
    """``AND``/``OR``/``NOT`` of ``obj`` converted with ``convert`` one level deeper."""
    parts: list[Filter] = []
    if obj.and_ is not None:
        items = present(obj.and_, f"{path}.AND")
        parts.append(
            And(
                tuple(
                    convert(f, f"{path}.AND[{i}]", depth + 1, budget) for i, f in enumerate(items)
                )
            )
        )
    if obj.or_ is not None:
        items = present(obj.or_, f"{path}.OR")
        parts.append(
            Or(tuple(convert(f, f"{path}.OR[{i}]", depth + 1, budget) for i, f in enumerate(items)))
        )
    if obj.not_ is not None:
        sub = f"{path}.NOT"
        parts.append(Not(convert(present(obj.not_, sub), sub, depth + 1, budget)))
    return parts
