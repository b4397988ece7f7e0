"""Webhook management: create, update, pause, rotate the secret, delete, list.

Any token may create a webhook; it sees what that token could read (its read scope is
stored with the webhook, and the webhook goes quiet when the token is revoked or
expires). The creating token (or an admin) may change, inspect or delete it; listing
every webhook is admin-only. Secrets are returned by ``create`` and ``rotate`` only.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from ulid import ULID

from app.auth.principal import Principal, require_admin
from app.errors import BadInput, NotFound, Unauthenticated
from app.settings import Settings
from app.text import reject_nul
from app.webhooks import outbox
from app.webhooks.address import AddressRefused, resolve
from app.webhooks.expansion import expand_outbox
from app.webhooks.signing import new_secret
from db.database import Database
from db.repositories import channels as channel_repo
from db.repositories import webhooks as repo

WebhookRow = Mapping[str, Any]
MAX_DESCRIPTION = 1000
MAX_OVERLAP_SECONDS = 7 * 24 * 3600
DEFAULT_OVERLAP_SECONDS = 24 * 3600


class _Unchanged:
    def __repr__(self) -> str:
        return "UNCHANGED"


UNCHANGED: Final = _Unchanged()


def scope_json(principal: Principal) -> dict[str, Any]:
    scope = principal.read_scope
    return {
        "admin": scope.admin,
        "channel_ids": sorted(scope.channel_ids),
        "workspace_ids": sorted(scope.workspace_ids),
    }


async def _check_url(url: str, settings: Settings, *, path: str) -> str:
    reject_nul(url, path=path)
    try:
        await resolve(url, allow_private=settings.webhook_allow_private)
    except AddressRefused as exc:
        raise BadInput(f"url refused: {exc}", path=path) from None
    return url


def _check_description(value: str | None, *, path: str) -> str | None:
    if value is not None:
        reject_nul(value, path=path)
        if len(value) > MAX_DESCRIPTION:
            raise BadInput(f"description is longer than {MAX_DESCRIPTION} characters", path=path)
    return value


async def _check_channel(db: Database, channel_id: str | None, *, path: str) -> str | None:
    if channel_id is not None:
        async with db.read() as conn:
            if await channel_repo.get_channel(conn, channel_id) is None:
                raise BadInput(f"channel {channel_id!r} does not exist", path=path)
    return channel_id


async def create_webhook(
    *,
    db: Database,
    settings: Settings,
    principal: Principal,
    url: str,
    channel_id: str | None = None,
    filter_json: Any = None,
    description: str | None = None,
) -> tuple[WebhookRow, str]:
    """``(row, secret)``; ``filter_json`` is an EventFilter already validated by the caller."""
    if not principal.is_authenticated:
        raise Unauthenticated("creating a webhook requires a token")
    url = await _check_url(url, settings, path="input.url")
    channel_id = await _check_channel(db, channel_id, path="input.channelId")
    now = datetime.now(UTC)
    secret = new_secret()
    row = {
        "id": str(ULID()),
        "url": url,
        "channel_id": channel_id,
        "filter": filter_json,
        "description": _check_description(description, path="input.description"),
        "enabled": True,
        "disabled_reason": None,
        "secret": secret,
        "previous_secret": None,
        "previous_secret_until": None,
        "creator_token_id": principal.token_id,
        "scope": scope_json(principal),
        "created_at": now,
        "updated_at": now,
    }
    async with db.transaction() as conn:
        await repo.insert_webhook(conn, row)
    outbox.webhooks_changed()
    return row, secret


async def get_webhook(*, db: Database, principal: Principal, id: str) -> WebhookRow:
    """The webhook, for an admin or the token that created it (``NotFound`` otherwise)."""
    if not principal.is_authenticated:
        raise Unauthenticated("authentication required")
    async with db.read() as conn:
        row = await repo.get_webhook(conn, id)
    if row is None or not (principal.is_admin or row["creator_token_id"] == principal.token_id):
        raise NotFound(f"webhook {id!r} not found", path="id")
    return row


async def list_webhooks(*, db: Database, principal: Principal) -> list[WebhookRow]:
    """Every webhook, oldest first (admin)."""
    require_admin(principal)
    async with db.read() as conn:
        return list(await repo.list_webhooks(conn))


async def update_webhook(
    *,
    db: Database,
    settings: Settings,
    principal: Principal,
    id: str,
    url: str | _Unchanged = UNCHANGED,
    channel_id: str | _Unchanged | None = UNCHANGED,
    filter_json: Any = UNCHANGED,
    description: str | _Unchanged | None = UNCHANGED,
    enabled: bool | _Unchanged = UNCHANGED,
) -> WebhookRow:
    """Change the given fields; ``enabled=False`` pauses (queued deliveries are skipped)."""
    await get_webhook(db=db, principal=principal, id=id)
    values: dict[str, Any] = {"updated_at": datetime.now(UTC)}
    if not isinstance(url, _Unchanged):
        values["url"] = await _check_url(url, settings, path="input.url")
    if not isinstance(channel_id, _Unchanged):
        values["channel_id"] = await _check_channel(db, channel_id, path="input.channelId")
    if filter_json is not UNCHANGED:
        values["filter"] = filter_json
    if not isinstance(description, _Unchanged):
        values["description"] = _check_description(description, path="input.description")
    if not isinstance(enabled, _Unchanged):
        values["enabled"] = enabled
        values["disabled_reason"] = None if enabled else "paused"
    if enabled is True:
        # What was published while it was paused is skipped, even if the dispatcher has
        # not expanded it yet (publishes for paused webhooks only do not wake it).
        await expand_outbox(db, window=settings.webhook_window)
    async with db.transaction() as conn:
        row = await repo.update_webhook(conn, id, values)
        if values.get("enabled") is False:
            await repo.skip_pending(conn, id, now=values["updated_at"])
    outbox.webhooks_changed()
    if row is None:
        raise NotFound(f"webhook {id!r} not found", path="id")
    return row


async def rotate_secret(
    *, db: Database, principal: Principal, id: str, overlap_seconds: int | None
) -> tuple[WebhookRow, str]:
    """A new secret; the old one keeps signing too for ``overlap_seconds`` (default a day)."""
    await get_webhook(db=db, principal=principal, id=id)
    overlap = DEFAULT_OVERLAP_SECONDS if overlap_seconds is None else overlap_seconds
    if not 0 <= overlap <= MAX_OVERLAP_SECONDS:
        raise BadInput(
            f"overlapSeconds must be between 0 and {MAX_OVERLAP_SECONDS}", path="overlapSeconds"
        )
    now = datetime.now(UTC)
    secret = new_secret()
    async with db.transaction() as conn:
        current = await repo.get_webhook(conn, id)
        if current is None:
            raise NotFound(f"webhook {id!r} not found", path="id")
        values: dict[str, Any] = {"secret": secret, "updated_at": now}
        if overlap:
            values["previous_secret"] = current["secret"]
            values["previous_secret_until"] = now + timedelta(seconds=overlap)
        else:
            values["previous_secret"] = values["previous_secret_until"] = None
        row = await repo.update_webhook(conn, id, values)
    assert row is not None
    return row, secret


async def delete_webhook(*, db: Database, principal: Principal, id: str) -> str:
    """Delete the webhook, its queued deliveries and its attempt log; returns its id."""
    await get_webhook(db=db, principal=principal, id=id)
    async with db.transaction() as conn:
        await repo.delete_webhook(conn, id)
    outbox.webhooks_changed()
    return id
