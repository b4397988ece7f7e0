"""``channels`` and ``channel`` root fields."""

from __future__ import annotations

import strawberry

from app.channels import read as channel_read
from graphql_schema import fields
from graphql_schema.context import Info
from graphql_schema.inputs import arguments as args
from graphql_schema.inputs.channel_filter import ChannelFilter
from graphql_schema.types.channel import Channel, ChannelConnection, ChannelEdge
from graphql_schema.types.page_info import PageInfo


@strawberry.type
class ChannelsQuery:
    @fields.field(description="Channels the caller can read (public ones and its own).")
    async def channels(
        self,
        info: Info,
        filter: ChannelFilter | None = strawberry.UNSET,
        first: int | None = strawberry.UNSET,
        after: str | None = strawberry.UNSET,
        last: int | None = strawberry.UNSET,
        before: str | None = strawberry.UNSET,
    ) -> ChannelConnection:

        context = info.context
        channel_filter = args.given(filter)
        page = await channel_read.list_channels(
            db=context.db,
            scope=context.principal.read_scope,
            filter=channel_filter.to_query("filter") if channel_filter else None,
            page=args.page_request(first, after, last, before),
            max_page_size=context.settings.max_page_size,
        )
        nodes = [Channel.from_row(row) for row in page.rows]
        return ChannelConnection(
            edges=[ChannelEdge(cursor=c, node=n) for c, n in zip(page.cursors, nodes, strict=True)],
            nodes=nodes,
            page_info=PageInfo.from_page(page),
        )

    @fields.field(description="One channel, or null when missing or unreadable.")
    async def channel(self, info: Info, id: strawberry.ID) -> Channel | None:
        row = await info.context.loaders.channel_by_id.load(id)
        return None if row is None else Channel.from_row(row)
