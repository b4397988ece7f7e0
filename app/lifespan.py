"""Start and stop what a process owns: the database engines (later also broadcast)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app.observability.logging import configure_logging
from app.settings import Settings
from app.state import AppState
from db.database import Database


def build_lifespan(settings: Settings):  # type: ignore[no-untyped-def]
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(settings.log_level)
        db = Database(settings.database_url, pool_size=settings.db_pool_size)
        app.state.eventgraph = AppState(settings=settings, db=db)
        try:
            yield
        finally:
            await db.dispose()

    return lifespan
