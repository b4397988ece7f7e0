"""``EventFilter`` and ``EventRelationFilter``: the event query language of SPEC §5."""

from __future__ import annotations

from typing import Literal

import strawberry

from db.event_fields import FILTERABLE_FIELDS, JSON_COLUMNS
from db.query.ast import Filter, Related
from graphql_schema.inputs.channel_filter import ChannelFilter
from graphql_schema.inputs.json_filter import JSONFilter
from graphql_schema.inputs.limits import FilterBudget, check_depth, present
from graphql_schema.inputs.logic import (
    AND_DESCRIPTION,
    NOT_DESCRIPTION,
    OR_DESCRIPTION,
    all_of,
    column_parts,
    logical_parts,
)
from graphql_schema.inputs.scalar_filters import DateTimeFilter, IDFilter, StringFilter
from graphql_schema.inputs.workspace_filter import WorkspaceFilter


@strawberry.input(
    description="Quantified conditions over related readable events; quantifiers given"
    " together are ANDed."
)
class EventRelationFilter:
    some: strawberry.Maybe[EventFilter | None] = strawberry.field(
        description="At least one related event matches."
    )
    every: strawberry.Maybe[EventFilter | None] = strawberry.field(
        description="Every related event matches (true when there are none)."
    )
    none: strawberry.Maybe[EventFilter | None] = strawberry.field(
        description="No related event matches (true when there are none)."
    )

    def convert(
        self,
        relation: Literal["children", "events"],
        path: str,
        depth: int,
        budget: FilterBudget,
    ) -> list[Filter]:
        parts: list[Filter] = []
        for given, quantifier in (
            (self.some, "some"),
            (self.every, "every"),
            (self.none, "none"),
        ):
            if given is not None:
                sub = f"{path}.{quantifier}"
                inner = present(given, sub).convert(sub, depth + 1, budget)
                parts.append(Related(relation, inner, quantifier))  # type: ignore[arg-type]
        return parts


@strawberry.input(
    description="Conditions on an event. Fields given together are ANDed, operators inside"
    " a field filter are ANDed, an absent field is no constraint and `{}` is true. Logic"
    " is two-valued: a comparison on NULL is false, `neq`/`notIn`/`NOT` are exact"
    " complements. An explicit null on an operator or on AND/OR/NOT/a relation is an"
    " error. Limits: depth 10 (each filter object is one level), 200 conditions, 500"
    " values per `in` list."
)
class EventFilter:
    and_: strawberry.Maybe[list[EventFilter] | None] = strawberry.field(
        name="AND", description=AND_DESCRIPTION
    )
    or_: strawberry.Maybe[list[EventFilter] | None] = strawberry.field(
        name="OR", description=OR_DESCRIPTION
    )
    not_: strawberry.Maybe[EventFilter | None] = strawberry.field(
        name="NOT", description=NOT_DESCRIPTION
    )
    id: strawberry.Maybe[IDFilter | None] = strawberry.field(description="The event id (ULID).")
    type: strawberry.Maybe[StringFilter | None] = strawberry.field(description="The event type.")
    channel_id: strawberry.Maybe[IDFilter | None] = strawberry.field(
        description="The channel it was published into."
    )
    workspace_id: strawberry.Maybe[IDFilter | None] = strawberry.field(
        description="The workspace of its channel."
    )
    subject_id: strawberry.Maybe[IDFilter | None] = strawberry.field(description="Its subject.")
    user_id: strawberry.Maybe[IDFilter | None] = strawberry.field(description="Its user.")
    parent_id: strawberry.Maybe[IDFilter | None] = strawberry.field(
        description="The id of its parent event (kept after the parent is deleted)."
    )
    publisher_id: strawberry.Maybe[IDFilter | None] = strawberry.field(
        description="The publisher of the token that published it."
    )
    created_at: strawberry.Maybe[DateTimeFilter | None] = strawberry.field(
        description="When it was published."
    )
    data: strawberry.Maybe[JSONFilter | None] = strawberry.field(description="Its payload.")
    meta: strawberry.Maybe[JSONFilter | None] = strawberry.field(description="Its metadata.")
    parent: strawberry.Maybe[EventFilter | None] = strawberry.field(
        description="It has a readable parent matching the filter (false without one)."
    )
    children: strawberry.Maybe[EventRelationFilter | None] = strawberry.field(
        description="Quantified conditions over its readable children."
    )
    channel: strawberry.Maybe[ChannelFilter | None] = strawberry.field(
        description="Its channel matches the filter."
    )
    workspace: strawberry.Maybe[WorkspaceFilter | None] = strawberry.field(
        description="Its workspace matches the filter."
    )

    def to_query(self, path: str = "filter") -> Filter:
        """The query AST of this filter; raises ``BadInput`` naming the path at fault."""
        return self.convert(path, 1, FilterBudget())

    def convert(self, path: str, depth: int, budget: FilterBudget) -> Filter:
        check_depth(depth, path)
        parts = logical_parts(self, path, depth, budget, EventFilter.convert)
        parts.extend(
            column_parts(
                tuple((getattr(self, f.column), f.column, f.name) for f in FILTERABLE_FIELDS),
                path,
                budget,
            )
        )
        for name in JSON_COLUMNS:
            if (doc := getattr(self, name)) is not None:
                sub = f"{path}.{name}"
                parts.extend(present(doc, sub).to_query(name, sub, budget))
        if self.parent is not None:
            sub = f"{path}.parent"
            parent = present(self.parent, sub).convert(sub, depth + 1, budget)
            parts.append(Related("parent", parent))
        if self.children is not None:
            sub = f"{path}.children"
            parts.extend(present(self.children, sub).convert("children", sub, depth, budget))
        if self.channel is not None:
            sub = f"{path}.channel"
            channel = present(self.channel, sub).convert(sub, depth + 1, budget)
            parts.append(Related("channel", channel))
        if self.workspace is not None:
            sub = f"{path}.workspace"
            workspace = present(self.workspace, sub).convert(sub, depth + 1, budget)
            parts.append(Related("workspace", workspace))
        return all_of(parts)
