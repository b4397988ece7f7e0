from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from db.database import Database


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    try:
        yield database
    finally:
        await database.dispose()
