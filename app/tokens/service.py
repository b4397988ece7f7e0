"""Token administration (admin only). The secret is returned by ``create_token`` only."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from ulid import ULID

from app.auth.principal import Principal, require_admin
from app.auth.tokens import forget, hash_secret, new_secret
from app.errors import BadInput, NotFound
from app.text import check_text
from app.workspaces.service import validate_name
from db.database import Database
from db.repositories import channels as channel_repo
from db.repositories import tokens as token_repo
from db.repositories import workspaces as workspace_repo
from db.repositories.tokens import TokenRow

TOKEN_KINDS = ("admin", "publish", "subscribe")

__all__ = ["TOKEN_KINDS", "TokenRow", "create_token", "list_tokens", "revoke_token"]


def _check_ids(ids: Sequence[str], *, path: str) -> list[str]:
    unique: list[str] = []
    for index, value in enumerate(ids):
        if not isinstance(value, str) or not value:
            raise BadInput("ids must be non-empty strings", path=f"{path}[{index}]")
        check_text(value, path=f"{path}[{index}]")
        if value not in unique:
            unique.append(value)
    return unique


async def create_token(
    *,
    db: Database,
    principal: Principal,
    name: str,
    kind: str,
    channel_ids: Sequence[str] = (),
    workspace_ids: Sequence[str] = (),
    publisher_id: str | None = None,
    publisher_name: str | None = None,
    expires_at: datetime | None = None,
) -> tuple[TokenRow, str]:
    """Create a token; returns ``(row, secret)``. Only the secret's SHA-256 is stored."""
    require_admin(principal)
    name = validate_name(name, path="input.name")
    if kind not in TOKEN_KINDS:
        raise BadInput(f"kind must be one of {', '.join(TOKEN_KINDS)}", path="input.kind")
    channels = _check_ids(channel_ids, path="input.channelIds")
    workspaces = _check_ids(workspace_ids, path="input.workspaceIds")
    check_text(publisher_id, path="input.publisherId")
    check_text(publisher_name, path="input.publisherName")
    now = datetime.now(UTC)
    if expires_at is not None:
        if expires_at.tzinfo is None:
            expires_at = expires_at.replace(tzinfo=UTC)
        if expires_at <= now:
            raise BadInput("expiresAt must be in the future", path="input.expiresAt")
    secret = new_secret()
    row = {
        "id": str(ULID()),
        "name": name,
        "kind": kind,
        "secret_hash": hash_secret(secret),
        "channel_ids": channels,
        "workspace_ids": workspaces,
        "publisher_id": publisher_id,
        "publisher_name": publisher_name,
        "expires_at": expires_at,
        "revoked_at": None,
        "created_at": now,
    }
    async with db.transaction() as conn:
        known_channels = await channel_repo.existing_channel_ids(conn, channels)
        for index, channel_id in enumerate(channels):
            if channel_id not in known_channels:
                raise BadInput(
                    f"channel {channel_id!r} does not exist", path=f"input.channelIds[{index}]"
                )
        known_workspaces = await workspace_repo.existing_workspace_ids(conn, workspaces)
        for index, workspace_id in enumerate(workspaces):
            if workspace_id not in known_workspaces:
                raise BadInput(
                    f"workspace {workspace_id!r} does not exist",
                    path=f"input.workspaceIds[{index}]",
                )
        stored = await token_repo.insert_token(conn, row)
    return stored, secret


async def revoke_token(*, db: Database, principal: Principal, id: str) -> TokenRow:
    """Revoke a token (idempotent: the first ``revokedAt`` is kept). Takes effect at once in
    this process and within ``app.auth.tokens.CACHE_TTL_SECONDS`` in the others."""
    require_admin(principal)
    async with db.transaction() as conn:
        row = await token_repo.revoke_token(conn, id, datetime.now(UTC))
    if row is None:
        raise NotFound(f"token {id!r} not found", path="id")
    forget(db, row["secret_hash"])
    return row


async def list_tokens(*, db: Database, principal: Principal) -> list[TokenRow]:
    """Every token, oldest first (rows carry no secret, only its hash)."""
    require_admin(principal)
    async with db.read() as conn:
        return await token_repo.list_tokens(conn)
