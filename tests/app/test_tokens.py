"""Tokens: creation rules, hashing, authentication, expiry, revocation and its cache bound."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update

from app.auth import tokens as auth_tokens
from app.auth.principal import ADMIN, ANONYMOUS
from app.auth.tokens import authenticate
from app.errors import BadInput, Forbidden, NotFound, Unauthenticated
from app.settings import Settings
from app.tokens.service import create_token, list_tokens, revoke_token
from db.database import Database
from db.tables import tokens_table
from tests.app.conftest import make_channel, make_principal, make_workspace
from tests.fixtures.app import ADMIN_SECRET


async def test_secret_is_shown_once_and_stored_hashed(db: Database, settings: Settings) -> None:
    await make_workspace(db, "ws")
    await make_channel(db, "orders")
    row, secret = await create_token(
        db=db,
        principal=ADMIN,
        name="svc",
        kind="publish",
        channel_ids=["orders"],
        workspace_ids=["ws"],
        publisher_id="svc",
        publisher_name="Service",
    )
    assert secret.startswith("eg_")
    assert len(secret) > 40
    assert row["secret_hash"] == hashlib.sha256(secret.encode()).hexdigest()
    listed = await list_tokens(db=db, principal=ADMIN)
    assert [t["id"] for t in listed] == [row["id"]]
    assert all(secret not in str(value) for value in listed[0].values())
    principal = await authenticate(db=db, settings=settings, secret=secret)
    assert principal.kind == "publish"
    assert principal.token_id == row["id"]
    assert principal.channel_ids == frozenset({"orders"})
    assert principal.workspace_ids == frozenset({"ws"})
    assert principal.publisher_id == "svc"
    assert principal.publisher_name == "Service"


async def test_authenticate_admin_anonymous_and_unknown(db: Database, settings: Settings) -> None:
    assert await authenticate(db=db, settings=settings, secret=None) == ANONYMOUS
    admin = await authenticate(db=db, settings=settings, secret=ADMIN_SECRET)
    assert admin.is_admin
    with pytest.raises(Unauthenticated):
        await authenticate(db=db, settings=settings, secret="eg_unknown")
    without_admin = settings.model_copy(update={"admin_token": None})
    with pytest.raises(Unauthenticated):
        await authenticate(db=db, settings=without_admin, secret=ADMIN_SECRET)


async def test_management_is_admin_only(db: Database, settings: Settings) -> None:
    await make_workspace(db, "ws")
    publisher = await make_principal(db, settings, workspace_ids=["ws"])
    with pytest.raises(Unauthenticated):
        await create_token(db=db, principal=ANONYMOUS, name="x", kind="publish")
    with pytest.raises(Forbidden):
        await create_token(db=db, principal=publisher, name="x", kind="publish")
    with pytest.raises(Forbidden):
        await list_tokens(db=db, principal=publisher)
    with pytest.raises(Forbidden):
        await revoke_token(db=db, principal=publisher, id="x")


async def test_create_validates_references_kind_and_expiry(
    db: Database, settings: Settings
) -> None:
    await make_workspace(db, "ws")
    await make_channel(db, "orders")
    cases: list[tuple[dict[str, Any], str]] = [
        ({"kind": "root"}, "input.kind"),
        ({"channel_ids": ["orders", "missing"]}, "input.channelIds[1]"),
        ({"workspace_ids": ["nope"]}, "input.workspaceIds[0]"),
        ({"expires_at": datetime.now(UTC) - timedelta(seconds=1)}, "input.expiresAt"),
        ({"name": "  "}, "input.name"),
    ]
    for overrides, path in cases:
        arguments = {"name": "t", "kind": "publish", **overrides}
        with pytest.raises(BadInput) as caught:
            await create_token(db=db, principal=ADMIN, **arguments)
        assert caught.value.path == path
    assert await list_tokens(db=db, principal=ADMIN) == []


async def test_expired_token_is_rejected_even_when_cached(db: Database, settings: Settings) -> None:
    row, secret = await create_token(
        db=db,
        principal=ADMIN,
        name="short",
        kind="subscribe",
        expires_at=datetime.now(UTC) + timedelta(hours=1),
    )
    assert (await authenticate(db=db, settings=settings, secret=secret)).kind == "subscribe"
    async with db.transaction() as conn:
        await conn.execute(
            update(tokens_table)
            .where(tokens_table.c.id == row["id"])
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    # Straight from the database (cache dropped) ...
    auth_tokens.forget(db, row["secret_hash"])
    with pytest.raises(Unauthenticated, match="expired"):
        await authenticate(db=db, settings=settings, secret=secret)


async def test_revocation_is_immediate_here_and_bounded_elsewhere(
    db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    row, secret = await create_token(db=db, principal=ADMIN, name="t", kind="subscribe")
    await authenticate(db=db, settings=settings, secret=secret)
    revoked = await revoke_token(db=db, principal=ADMIN, id=row["id"])
    assert revoked["revoked_at"] is not None
    with pytest.raises(Unauthenticated, match="revoked"):
        await authenticate(db=db, settings=settings, secret=secret)
    again = await revoke_token(db=db, principal=ADMIN, id=row["id"])
    assert again["revoked_at"] == revoked["revoked_at"]
    with pytest.raises(NotFound):
        await revoke_token(db=db, principal=ADMIN, id="missing")

    # Revoked by "another process" (straight in the database): the cached verification
    # lasts at most CACHE_TTL_SECONDS.
    other, other_secret = await create_token(db=db, principal=ADMIN, name="o", kind="subscribe")
    await authenticate(db=db, settings=settings, secret=other_secret)
    async with db.transaction() as conn:
        await conn.execute(
            update(tokens_table)
            .where(tokens_table.c.id == other["id"])
            .values(revoked_at=datetime.now(UTC))
        )
    assert (await authenticate(db=db, settings=settings, secret=other_secret)).kind == "subscribe"
    later = auth_tokens._clock() + auth_tokens.CACHE_TTL_SECONDS + 0.01
    monkeypatch.setattr(auth_tokens, "_clock", lambda: later)
    with pytest.raises(Unauthenticated, match="revoked"):
        await authenticate(db=db, settings=settings, secret=other_secret)
