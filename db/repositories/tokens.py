"""Token rows, looked up by the SHA-256 hash of their secret (never the secret itself)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update

from db.database import ReadConn, WriteConn
from db.tables import tokens_table

TokenRow = Mapping[str, Any]
"""A row of ``tokens``: ``id``, ``name``, ``kind``, ``secret_hash``, ``channel_ids``,
``workspace_ids``, ``publisher_id``, ``publisher_name``, ``expires_at``, ``revoked_at``,
``created_at``."""


async def get_token_by_hash(conn: ReadConn | WriteConn, secret_hash: str) -> TokenRow | None:
    result = await conn.execute(
        select(tokens_table).where(tokens_table.c.secret_hash == secret_hash)
    )
    row = result.mappings().first()
    return dict(row) if row is not None else None


async def get_token(conn: ReadConn | WriteConn, token_id: str) -> TokenRow | None:
    result = await conn.execute(select(tokens_table).where(tokens_table.c.id == token_id))
    row = result.mappings().first()
    return dict(row) if row is not None else None


async def list_tokens(conn: ReadConn | WriteConn) -> list[TokenRow]:
    result = await conn.execute(select(tokens_table).order_by(tokens_table.c.id))
    return [dict(row) for row in result.mappings()]


async def insert_token(conn: WriteConn, row: Mapping[str, Any]) -> TokenRow:
    await conn.execute(insert(tokens_table).values(dict(row)))
    return dict(row)


async def revoke_token(conn: WriteConn, token_id: str, revoked_at: datetime) -> TokenRow | None:
    """Set ``revoked_at`` unless already set (the first revocation time is kept)."""
    await conn.execute(
        update(tokens_table)
        .where(tokens_table.c.id == token_id, tokens_table.c.revoked_at.is_(None))
        .values(revoked_at=revoked_at)
    )
    return await get_token(conn, token_id)
