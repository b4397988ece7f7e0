"""``EventConnection``: a keyset page of events; ``totalCount`` is counted only when asked."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

import strawberry

from app.events.read import EventPage
from graphql_schema import fields
from graphql_schema.types.event import Event
from graphql_schema.types.page_info import PageInfo

Counter = Callable[[], Awaitable[int]]


@strawberry.type(description="An event and its cursor.")
class EventEdge:
    cursor: str
    node: Event


@strawberry.type(description="A page of events in the requested order.")
class EventConnection:
    nodes: list[Event]
    page_info: PageInfo
    cursors: strawberry.Private[Sequence[str]]
    counter: strawberry.Private[Counter]

    @strawberry.field
    def edges(self) -> list[EventEdge]:
        return [
            EventEdge(cursor=cursor, node=node)
            for cursor, node in zip(self.cursors, self.nodes, strict=True)
        ]

    @fields.field(
        description="All matching events the caller can read, ignoring the page (a COUNT"
        " runs only when this field is selected). On the root `events` connection it is"
        " counted in the same database snapshot as the page, so it is never below the"
        " rows the page shows."
    )
    async def total_count(self) -> int:
        return await self.counter()

    @classmethod
    def from_page(cls, page: EventPage, counter: Counter) -> EventConnection:
        return cls(
            nodes=[Event.from_row(row) for row in page.rows],
            page_info=PageInfo.from_page(page),
            cursors=page.cursors,
            counter=counter,
        )
