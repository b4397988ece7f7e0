"""Start and stop what a process owns: the database engines (later also broadcast)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from fastapi import FastAPI

from app.events.retention import start_retention_task
from app.settings import Settings
from app.state import AppState
from db.database import Database


def build_lifespan(settings: Settings):  # type: ignore[no-untyped-def]
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = Database(
            settings.database_url,
            pool_size=settings.db_pool_size,
            busy_timeout_ms=settings.sqlite_busy_timeout_ms,
        )
        state = AppState(settings=settings, db=db)
        app.state.eventgraph = state
        retention = start_retention_task(state)  # None unless RETENTION_DAYS is set
        try:
            yield
        finally:
            if retention is not None:
                retention.cancel()
                with suppress(asyncio.CancelledError):
                    await retention
            await db.dispose()

    return lifespan
