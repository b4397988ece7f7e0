"""``WorkspaceFilter``: conditions on a workspace."""

from __future__ import annotations

import strawberry

from db.query.ast import Filter
from graphql_schema.inputs.limits import FilterBudget, check_depth
from graphql_schema.inputs.logic import (
    AND_DESCRIPTION,
    NOT_DESCRIPTION,
    OR_DESCRIPTION,
    all_of,
    column_parts,
    logical_parts,
)
from graphql_schema.inputs.scalar_filters import DateTimeFilter, IDFilter, StringFilter


@strawberry.input(description="Conditions on a workspace; fields given together are ANDed.")
class WorkspaceFilter:
    and_: strawberry.Maybe[list[WorkspaceFilter] | None] = strawberry.field(
        name="AND", description=AND_DESCRIPTION
    )
    or_: strawberry.Maybe[list[WorkspaceFilter] | None] = strawberry.field(
        name="OR", description=OR_DESCRIPTION
    )
    not_: strawberry.Maybe[WorkspaceFilter | None] = strawberry.field(
        name="NOT", description=NOT_DESCRIPTION
    )
    id: strawberry.Maybe[IDFilter | None] = strawberry.field(description="The workspace id.")
    name: strawberry.Maybe[StringFilter | None] = strawberry.field(description="Its name.")
    created_at: strawberry.Maybe[DateTimeFilter | None] = strawberry.field(
        description="When it was created."
    )

    def to_query(self, path: str = "filter") -> Filter:
        """The query AST of this filter; raises ``BadInput`` naming the path at fault."""
        return self.convert(path, 1, FilterBudget())

    def convert(self, path: str, depth: int, budget: FilterBudget) -> Filter:
        check_depth(depth, path)
        parts = logical_parts(self, path, depth, budget, WorkspaceFilter.convert)
        parts.extend(
            column_parts(
                (
                    (self.id, "id", "id"),
                    (self.name, "name", "name"),
                    (self.created_at, "created_at", "createdAt"),
                ),
                path,
                budget,
            )
        )
        return all_of(parts)
