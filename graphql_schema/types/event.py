"""The ``Event`` type: plain attributes from a row; relations through per-request loaders."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from app.events.read import EventRow
from graphql_schema import fields
from graphql_schema.context import Info
from graphql_schema.inputs import arguments as args
from graphql_schema.inputs.event_filter import EventFilter
from graphql_schema.inputs.event_order import EventOrderBy
from graphql_schema.loaders import RelatedKey
from graphql_schema.scalars import JSON, DateTime

if TYPE_CHECKING:
    from graphql_schema.types.channel import Channel
    from graphql_schema.types.connection import EventConnection
    from graphql_schema.types.workspace import Workspace


@strawberry.type(description="An event published into a channel.")
class Event:
    id: strawberry.ID = strawberry.field(description="ULID assigned by the server.")
    type: str | None
    channel_id: strawberry.ID | None
    workspace_id: strawberry.ID | None
    subject_id: strawberry.ID | None
    user_id: strawberry.ID | None
    parent_id: strawberry.ID | None = strawberry.field(
        description="Kept as published, even after the parent is deleted."
    )
    publisher_id: strawberry.ID | None
    publisher_name: str | None
    data: JSON | None
    meta: JSON | None
    created_at: DateTime
    replayed: bool = strawberry.field(
        default=False,
        description="True when a subscription delivers this event again because of"
        " `replayEvents`; false everywhere else. A replay is not a resume position.",
    )

    @classmethod
    def from_row(cls, row: EventRow, *, replayed: bool = False) -> Event:
        # Spelled out rather than built from ``db/event_fields.py`` (twice as fast per
        # event); ``tests/db/test_event_fields.py`` holds it to that list.
        return cls(
            id=row["id"],
            type=row["type"],
            channel_id=row["channel_id"],
            workspace_id=row["workspace_id"],
            subject_id=row["subject_id"],
            user_id=row["user_id"],
            parent_id=row["parent_id"],
            publisher_id=row["publisher_id"],
            publisher_name=row["publisher_name"],
            data=row["data"],
            meta=row["meta"],
            created_at=row["created_at"],
            replayed=replayed,
        )

    @fields.field(description="The parent event; null when absent, deleted or unreadable.")
    async def parent(self, info: Info) -> Event | None:
        if self.parent_id is None:
            return None
        row = await info.context.loaders.event_by_id.load(self.parent_id)
        return None if row is None else Event.from_row(row)

    @fields.field(description="The channel it was published into.")
    async def channel(
        self, info: Info
    ) -> Annotated[Channel, strawberry.lazy("graphql_schema.types.channel")] | None:
        from graphql_schema.types.channel import Channel

        if self.channel_id is None:
            return None
        row = await info.context.loaders.channel_by_id.load(self.channel_id)
        return None if row is None else Channel.from_row(row)

    @fields.field(description="The workspace of its channel.")
    async def workspace(
        self, info: Info
    ) -> Annotated[Workspace, strawberry.lazy("graphql_schema.types.workspace")] | None:
        from graphql_schema.types.workspace import Workspace

        if self.workspace_id is None:
            return None
        row = await info.context.loaders.workspace_by_id.load(self.workspace_id)
        return None if row is None else Workspace.from_row(row)

    @fields.field(description="Readable events whose parentId is this event.")
    async def children(
        self,
        info: Info,
        filter: Annotated[EventFilter | None, strawberry.argument(description=args.FILTER)] = (
            strawberry.UNSET
        ),
        order_by: Annotated[
            list[EventOrderBy] | None, strawberry.argument(description=args.ORDER_BY)
        ] = strawberry.UNSET,
        first: Annotated[int | None, strawberry.argument(description=args.FIRST)] = (
            strawberry.UNSET
        ),
        after: Annotated[str | None, strawberry.argument(description=args.AFTER)] = (
            strawberry.UNSET
        ),
        last: Annotated[int | None, strawberry.argument(description=args.LAST)] = (
            strawberry.UNSET
        ),
        before: Annotated[str | None, strawberry.argument(description=args.BEFORE)] = (
            strawberry.UNSET
        ),
    ) -> Annotated[EventConnection, strawberry.lazy("graphql_schema.types.connection")]:
        return await related_connection(
            info, "parent_id", self.id, filter, order_by, first, after, last, before
        )


async def related_connection(
    info: Info,
    group_field: Any,
    owner: str,
    filter: EventFilter | None,
    order_by: list[EventOrderBy] | None,
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
) -> EventConnection:
    """A connection of the events whose ``group_field`` is ``owner``, batched by loader."""
    from graphql_schema.types.connection import EventConnection

    loaders = info.context.loaders
    query = args.event_query(filter, order_by)
    page = args.page_request(first, after, last, before)
    key = RelatedKey(group_field, query, page, owner)
    result = await loaders.related_pages.load(key)
    count_key = RelatedKey(group_field, query, args.page_request(None, None, None, None), owner)

    async def counter() -> int:
        return await loaders.related_counts.load(count_key)

    return EventConnection.from_page(result, counter)
