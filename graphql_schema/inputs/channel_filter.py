"""``ChannelFilter``: conditions on a channel, its workspace and its events."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry

from db.query.ast import Filter, Related
from graphql_schema.inputs.limits import FilterBudget, check_depth, present
from graphql_schema.inputs.logic import (
    AND_DESCRIPTION,
    NOT_DESCRIPTION,
    OR_DESCRIPTION,
    all_of,
    column_parts,
    logical_parts,
)
from graphql_schema.inputs.scalar_filters import (
    BooleanFilter,
    DateTimeFilter,
    IDFilter,
    StringFilter,
)
from graphql_schema.inputs.workspace_filter import WorkspaceFilter

if TYPE_CHECKING:
    from graphql_schema.inputs.event_filter import EventRelationFilter


@strawberry.input(description="Conditions on a channel; fields given together are ANDed.")
class ChannelFilter:
    and_: strawberry.Maybe[list[ChannelFilter] | None] = strawberry.field(
        name="AND", description=AND_DESCRIPTION
    )
    or_: strawberry.Maybe[list[ChannelFilter] | None] = strawberry.field(
        name="OR", description=OR_DESCRIPTION
    )
    not_: strawberry.Maybe[ChannelFilter | None] = strawberry.field(
        name="NOT", description=NOT_DESCRIPTION
    )
    id: strawberry.Maybe[IDFilter | None] = strawberry.field(description="The channel id (slug).")
    name: strawberry.Maybe[StringFilter | None] = strawberry.field(description="Its name.")
    workspace_id: strawberry.Maybe[IDFilter | None] = strawberry.field(
        description="The workspace it belongs to."
    )
    private: strawberry.Maybe[BooleanFilter | None] = strawberry.field(
        description="Whether only scoped tokens may read it."
    )
    created_at: strawberry.Maybe[DateTimeFilter | None] = strawberry.field(
        description="When it was created."
    )
    workspace: strawberry.Maybe[WorkspaceFilter | None] = strawberry.field(
        description="Its workspace matches the filter."
    )
    events: strawberry.Maybe[
        Annotated[EventRelationFilter, strawberry.lazy("graphql_schema.inputs.event_filter")] | None
    ] = strawberry.field(description="Quantified conditions over its readable events.")

    def to_query(self, path: str = "filter") -> Filter:
        """The query AST of this filter; raises ``BadInput`` naming the path at fault."""
        return self.convert(path, 1, FilterBudget())

    def convert(self, path: str, depth: int, budget: FilterBudget) -> Filter:
        check_depth(depth, path)
        parts = logical_parts(self, path, depth, budget, ChannelFilter.convert)
        parts.extend(
            column_parts(
                (
                    (self.id, "id", "id"),
                    (self.name, "name", "name"),
                    (self.workspace_id, "workspace_id", "workspaceId"),
                    (self.private, "private", "private"),
                    (self.created_at, "created_at", "createdAt"),
                ),
                path,
                budget,
            )
        )
        if self.workspace is not None:
            sub = f"{path}.workspace"
            workspace = present(self.workspace, sub)
            parts.append(Related("workspace", workspace.convert(sub, depth + 1, budget)))
        if self.events is not None:
            sub = f"{path}.events"
            parts.extend(present(self.events, sub).convert("events", sub, depth, budget))
        return all_of(parts)
