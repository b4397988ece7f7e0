"""``webhooks`` and ``webhook(id)``."""

from __future__ import annotations

import strawberry

from app.webhooks.service import get_webhook, list_webhooks
from graphql_schema import fields
from graphql_schema.context import Info
from graphql_schema.permissions import IsAdmin, IsAuthenticated
from graphql_schema.types.webhook import Webhook


@strawberry.type
class WebhooksQuery:
    @fields.field(description="Every webhook, oldest first (admin).", permission_classes=[IsAdmin])
    async def webhooks(self, info: Info) -> list[Webhook]:
        context = info.context
        rows = await list_webhooks(db=context.db, principal=context.principal)
        return [Webhook.from_row(row) for row in rows]

    @fields.field(
        description="One webhook, for the token that created it or an admin.",
        permission_classes=[IsAuthenticated],
    )
    async def webhook(self, info: Info, id: strawberry.ID) -> Webhook:
        context = info.context
        row = await get_webhook(db=context.db, principal=context.principal, id=id)
        return Webhook.from_row(row)
