"""API tokens as admins see them; the secret appears once, in ``CreatedToken``."""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Any

import strawberry

from graphql_schema.scalars import DateTime


@strawberry.enum(description="What a token may do.")
class TokenKind(Enum):
    admin = "admin"
    publish = "publish"
    subscribe = "subscribe"


@strawberry.type(description="An API token (its secret is never shown again).")
class Token:
    id: strawberry.ID
    name: str
    kind: TokenKind
    channel_ids: list[strawberry.ID] = strawberry.field(description="Channels it may read.")
    workspace_ids: list[strawberry.ID] = strawberry.field(
        description="Workspaces whose channels it may read."
    )
    publisher_id: strawberry.ID | None
    publisher_name: str | None
    expires_at: DateTime | None
    revoked_at: DateTime | None
    created_at: DateTime

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Token:
        return cls(
            id=row["id"],
            name=row["name"],
            kind=TokenKind(row["kind"]),
            channel_ids=list(row["channel_ids"]),
            workspace_ids=list(row["workspace_ids"]),
            publisher_id=row["publisher_id"],
            publisher_name=row["publisher_name"],
            expires_at=row["expires_at"],
            revoked_at=row["revoked_at"],
            created_at=row["created_at"],
        )


@strawberry.type(description="A new token and its secret, which is returned here only.")
class CreatedToken:
    token: Token
    secret: str


__all__ = ["CreatedToken", "Token", "TokenKind"]
