"""The authenticated caller and what it may do."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from app.errors import Forbidden, Unauthenticated
from db.query.scope import ReadScope

PrincipalKind = Literal["admin", "publish", "subscribe", "anonymous"]


@dataclass(frozen=True, slots=True)
class Principal:
    """Resolved from a token (or its absence); immutable for the request."""

    kind: PrincipalKind
    token_id: str | None = None
    channel_ids: frozenset[str] = frozenset()
    workspace_ids: frozenset[str] = frozenset()
    publisher_id: str | None = None
    publisher_name: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.kind == "admin"

    @property
    def is_authenticated(self) -> bool:
        return self.kind != "anonymous"

    @property
    def read_scope(self) -> ReadScope:
        if self.is_admin:
            return ReadScope(admin=True)
        return ReadScope(channel_ids=self.channel_ids, workspace_ids=self.workspace_ids)

    def can_publish(self, *, channel_id: str, workspace_id: str) -> bool:
        """Admin, or a publish token scoped to the channel or its workspace."""
        if self.is_admin:
            return True
        return self.kind == "publish" and (
            channel_id in self.channel_ids or workspace_id in self.workspace_ids
        )

    def can_delete(self, *, channel_id: str, workspace_id: str, publisher_id: str | None) -> bool:
        """Admin, or a publisher allowed in the channel that published the event."""
        if self.is_admin:
            return True
        return (
            self.can_publish(channel_id=channel_id, workspace_id=workspace_id)
            and self.publisher_id is not None
            and self.publisher_id == publisher_id
        )


ANONYMOUS = Principal(kind="anonymous")
ADMIN = Principal(kind="admin")


def require_admin(principal: Principal) -> None:
    """Management is admin-only: 401 when anonymous, 403 for any other token."""
    if not principal.is_authenticated:
        raise Unauthenticated("authentication required")
    if not principal.is_admin:
        raise Forbidden("admin token required")
