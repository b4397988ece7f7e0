"""The deployment id: random, created once per database, read by every process."""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from db.database import Database, WriteConn
from db.tables import deployment_table


async def _ensure(conn: WriteConn) -> str:
    # Concurrent first starts agree: an insert waits for a concurrent one to commit (the
    # primary key; SQLite has one writer at a time) and then does nothing, and the SELECT,
    # a new statement, reads the row that won. Safe to repeat after a lost connection.
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    await conn.execute(
        dialect.insert(deployment_table)
        .values(id=1, deployment_id=secrets.token_hex(16))
        .on_conflict_do_nothing(index_elements=[deployment_table.c.id])
    )
    result = await conn.execute(
        select(deployment_table.c.deployment_id).where(deployment_table.c.id == 1)
    )
    return str(result.scalar_one())


async def deployment_id(db: Database) -> str:
    """This database's deployment id, created on the first call against it."""
    return await db.run_write(_ensure)
