"""The ``Workspace`` type and ``WorkspaceConnection``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import strawberry

from graphql_schema import fields
from graphql_schema.context import Info
from graphql_schema.inputs.event_filter import EventFilter
from graphql_schema.inputs.event_order import EventOrderBy
from graphql_schema.scalars import DateTime
from graphql_schema.types.connection import EventConnection
from graphql_schema.types.event import related_connection
from graphql_schema.types.page_info import PageInfo


@strawberry.type(description="The outermost scope of channels and events.")
class Workspace:
    id: strawberry.ID = strawberry.field(description="A slug, generated when not given.")
    name: str
    created_at: DateTime

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Workspace:
        return cls(id=row["id"], name=row["name"], created_at=row["created_at"])

    @fields.field(description="Readable events of this workspace's channels.")
    async def events(
        self,
        info: Info,
        filter: EventFilter | None = strawberry.UNSET,
        order_by: list[EventOrderBy] | None = strawberry.UNSET,
        first: int | None = strawberry.UNSET,
        after: str | None = strawberry.UNSET,
        last: int | None = strawberry.UNSET,
        before: str | None = strawberry.UNSET,
    ) -> EventConnection:
        return await related_connection(
            info, "workspace_id", self.id, filter, order_by, first, after, last, before
        )


@strawberry.type(description="A workspace and its cursor.")
class WorkspaceEdge:
    cursor: str
    node: Workspace


@strawberry.type(description="A page of workspaces.")
class WorkspaceConnection:
    edges: list[WorkspaceEdge]
    nodes: list[Workspace]
    page_info: PageInfo
