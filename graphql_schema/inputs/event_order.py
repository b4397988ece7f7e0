"""``EventOrderBy`` (one field per element) and ``SortDirection`` with nulls placement."""

from __future__ import annotations

from enum import Enum

import strawberry

from app.errors import BadInput
from db.event_fields import BY_COLUMN, FILTERABLE
from db.query.ast import OrderKey

MAX_ORDER_KEYS = 10


@strawberry.enum(description="Sort direction; `asc` puts NULLs last, `desc` puts them first.")
class SortDirection(Enum):
    asc = "asc"
    desc = "desc"
    asc_nulls_first = "asc_nulls_first"
    asc_nulls_last = "asc_nulls_last"
    desc_nulls_first = "desc_nulls_first"
    desc_nulls_last = "desc_nulls_last"


_KEY = "Sort by this field."


@strawberry.input(
    one_of=True,
    description="One sort key: exactly one field with its direction. In a list, earlier"
    " keys sort first; `id` is appended as the final tie-breaker (in the direction of the"
    " last key) when absent. Default `[{createdAt: desc}, {id: desc}]`.",
)
class EventOrderBy:
    id: SortDirection | None = strawberry.field(default=strawberry.UNSET, description=_KEY)
    type: SortDirection | None = strawberry.field(default=strawberry.UNSET, description=_KEY)
    created_at: SortDirection | None = strawberry.field(default=strawberry.UNSET, description=_KEY)
    channel_id: SortDirection | None = strawberry.field(default=strawberry.UNSET, description=_KEY)
    workspace_id: SortDirection | None = strawberry.field(
        default=strawberry.UNSET, description=_KEY
    )
    subject_id: SortDirection | None = strawberry.field(default=strawberry.UNSET, description=_KEY)
    user_id: SortDirection | None = strawberry.field(default=strawberry.UNSET, description=_KEY)
    parent_id: SortDirection | None = strawberry.field(default=strawberry.UNSET, description=_KEY)
    publisher_id: SortDirection | None = strawberry.field(
        default=strawberry.UNSET, description=_KEY
    )

    def to_query(self, path: str) -> OrderKey:
        """The one ``OrderKey`` this element names; a client error unless exactly one."""
        given = [
            (column, direction)
            for column in FILTERABLE
            if isinstance(direction := getattr(self, column), SortDirection)
        ]
        if len(given) != 1:
            raise BadInput(f"{path}: name exactly one field to sort by", path=path)
        column, direction = given[0]
        return OrderKey.parse(column, direction.value)


def order_to_query(items: list[EventOrderBy] | None, path: str = "orderBy") -> tuple[OrderKey, ...]:
    """The sort keys of an ``orderBy`` list (empty when absent: the engine's default)."""
    if not items:
        return ()
    if len(items) > MAX_ORDER_KEYS:
        raise BadInput(f"{path}: at most {MAX_ORDER_KEYS} sort keys are allowed", path=path)
    keys: list[OrderKey] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        key = item.to_query(f"{path}[{i}]")
        if key.field in seen:
            name = BY_COLUMN[key.field].name
            raise BadInput(f"{path}[{i}]: {name} is sorted on twice", path=f"{path}[{i}]")
        seen.add(key.field)
        keys.append(key)
    return tuple(keys)
