"""ORDER BY for ``OrderKey`` lists with the same NULL placement on both databases."""

from __future__ import annotations

from typing import Any

from sqlalchemy import FromClause, UnaryExpression

from db.query.ast import NOT_NULL_FIELDS, Entity, OrderKey


class UnknownOrderFieldError(ValueError):
    """An order key naming a column the entity does not have."""


def reverse(keys: tuple[OrderKey, ...]) -> tuple[OrderKey, ...]:
    """The exact reverse order (direction and NULL placement both flipped)."""
    return tuple(
        OrderKey(
            k.field,
            "desc" if k.direction == "asc" else "asc",
            "last" if k.nulls == "first" else "first",
        )
        for k in keys
    )


def order_clauses(
    keys: tuple[OrderKey, ...], table: FromClause, entity: Entity = "event"
) -> list[UnaryExpression[Any]]:
    """ORDER BY terms; NOT NULL columns get no NULLS clause so btree indexes serve them."""
    clauses: list[UnaryExpression[Any]] = []
    for key in keys:
        if key.field not in table.c:
            raise UnknownOrderFieldError(f"cannot order by {key.field!r}")
        col = table.c[key.field]
        term = col.asc() if key.direction == "asc" else col.desc()
        if key.field not in NOT_NULL_FIELDS[entity]:
            term = term.nulls_first() if key.nulls == "first" else term.nulls_last()
        clauses.append(term)
    return clauses
