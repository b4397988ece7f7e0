"""The ``Channel`` type and ``ChannelConnection``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import strawberry

from graphql_schema import fields
from graphql_schema.context import Info
from graphql_schema.inputs.event_filter import EventFilter
from graphql_schema.inputs.event_order import EventOrderBy
from graphql_schema.scalars import JSON, DateTime
from graphql_schema.types.connection import EventConnection
from graphql_schema.types.event import related_connection
from graphql_schema.types.page_info import PageInfo
from graphql_schema.types.workspace import Workspace


@strawberry.type(description="Where events are published; public or private.")
class Channel:
    id: strawberry.ID = strawberry.field(description="A slug chosen by its creator.")
    name: str
    workspace_id: strawberry.ID
    private: bool = strawberry.field(
        description="Only tokens scoped to it (or its workspace) can read its events."
    )
    strict_types: bool = strawberry.field(
        description="Every published event must have a listed type and valid data."
    )
    schemas: JSON = strawberry.field(description="Event type → JSON Schema of its data.")
    created_at: DateTime

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Channel:
        return cls(
            id=row["id"],
            name=row["name"],
            workspace_id=row["workspace_id"],
            private=row["private"],
            strict_types=row["strict_types"],
            schemas=row["schemas"],
            created_at=row["created_at"],
        )

    @fields.field(description="The workspace it belongs to.")
    async def workspace(self, info: Info) -> Workspace | None:
        row = await info.context.loaders.workspace_by_id.load(self.workspace_id)
        return None if row is None else Workspace.from_row(row)

    @fields.field(description="Readable events published into this channel.")
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
            info, "channel_id", self.id, filter, order_by, first, after, last, before
        )


@strawberry.type(description="A channel and its cursor.")
class ChannelEdge:
    cursor: str
    node: Channel


@strawberry.type(description="A page of channels.")
class ChannelConnection:
    edges: list[ChannelEdge]
    nodes: list[Channel]
    page_info: PageInfo
