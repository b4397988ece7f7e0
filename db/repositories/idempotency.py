"""Idempotency keys: claim a key inside the publishing transaction, remember its events."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from db.database import WriteConn
from db.tables import idempotency_table as keys


async def claim(
    conn: WriteConn,
    *,
    owner: str,
    key: str,
    request_hash: str,
    now: datetime,
    expired_before: datetime,
) -> bool:
    """Take ``(owner, key)`` for this transaction: True when it was free or had expired.

    One statement; the primary key makes a concurrent claim of the same key wait until this
    transaction ends (PostgreSQL), and SQLite has one writer at a time.
    """
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    values: dict[str, Any] = {
        "owner": owner,
        "key": key,
        "request_hash": request_hash,
        "event_ids": [],
        "created_at": now,
    }
    statement = dialect.insert(keys).values(**values)
    statement = statement.on_conflict_do_update(
        index_elements=[keys.c.owner, keys.c.key],
        set_={
            name: statement.excluded[name] for name in ("request_hash", "event_ids", "created_at")
        },
        where=keys.c.created_at < expired_before,
    ).returning(keys.c.owner)
    result = await conn.execute(statement)
    return result.first() is not None


async def get(conn: WriteConn, *, owner: str, key: str) -> tuple[str, list[str]] | None:
    """``(request_hash, event_ids)`` of a key, or ``None``."""
    result = await conn.execute(
        select(keys.c.request_hash, keys.c.event_ids).where(
            keys.c.owner == owner, keys.c.key == key
        )
    )
    row = result.first()
    return None if row is None else (str(row[0]), list(row[1]))


async def remember(conn: WriteConn, *, owner: str, key: str, event_ids: Sequence[str]) -> None:
    await conn.execute(
        update(keys)
        .where(keys.c.owner == owner, keys.c.key == key)
        .values(event_ids=list(event_ids))
    )


async def prune(conn: WriteConn, *, before: datetime) -> int:
    """Delete keys created before ``before``; returns how many."""
    result = await conn.execute(delete(keys).where(keys.c.created_at < before))
    return result.rowcount
