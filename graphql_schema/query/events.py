"""``events`` and ``event`` root fields."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

import strawberry
from strawberry.types.nodes import SelectedField, Selection

from app.events import read as event_read
from graphql_schema import fields
from graphql_schema.context import Info
from graphql_schema.inputs import arguments as args
from graphql_schema.inputs.event_filter import EventFilter
from graphql_schema.inputs.event_order import EventOrderBy
from graphql_schema.types.connection import EventConnection
from graphql_schema.types.event import Event


def _selects_total(selections: Sequence[Selection]) -> bool:
    """Whether ``totalCount`` is selected on the connection (fragments included), so that
    the total is counted in the page's snapshot."""
    for selection in selections:
        if isinstance(selection, SelectedField):
            if selection.name == "totalCount":
                return True
            if selection.name == "events" and _selects_total(selection.selections):
                return True
        elif _selects_total(selection.selections):
            return True
    return False


@strawberry.type
class EventsQuery:
    @fields.field(description="Readable events, filtered, ordered and paged by keyset.")
    async def events(
        self,
        info: Info,
        filter: Annotated[EventFilter | None, strawberry.argument(description=args.FILTER)] = (
            strawberry.UNSET
        ),
        order_by: Annotated[
            list[EventOrderBy] | None, strawberry.argument(description=args.ORDER_BY)
        ] = strawberry.UNSET,
        ids: Annotated[
            list[strawberry.ID] | None, strawberry.argument(description=args.IDS)
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
    ) -> EventConnection:
        context = info.context
        scope = context.principal.read_scope
        query = args.event_query(filter, order_by, ids)
        page = await event_read.list_events(
            db=context.db,
            scope=scope,
            query=query,
            page=args.page_request(first, after, last, before),
            max_page_size=context.settings.max_page_size,
            with_total=_selects_total(info.selected_fields),
        )

        async def counter() -> int:
            assert page.total is not None  # counted with the page whenever it is selected
            return page.total

        return EventConnection.from_page(page, counter)

    @fields.field(description="One event, or null when missing or unreadable.")
    async def event(self, info: Info, id: strawberry.ID) -> Event | None:
        row = await info.context.loaders.event_by_id.load(id)
        return None if row is None else Event.from_row(row)
