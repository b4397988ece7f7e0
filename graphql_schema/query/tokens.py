"""``tokens`` (admin only)."""

from __future__ import annotations

import strawberry

from app.tokens.service import list_tokens
from graphql_schema import fields
from graphql_schema.context import Info
from graphql_schema.permissions import IsAdmin
from graphql_schema.types.token import Token


@strawberry.type
class TokensQuery:
    @fields.field(description="Every token, oldest first (admin).", permission_classes=[IsAdmin])
    async def tokens(self, info: Info) -> list[Token]:
        context = info.context
        rows = await list_tokens(db=context.db, principal=context.principal)
        return [Token.from_row(row) for row in rows]
