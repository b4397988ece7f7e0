"""The alembic tree produces exactly the tables the code declares, on both databases."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from db.migrate import downgrade, upgrade
from db.tables import metadata

# Indexes on PostgreSQL only (GIN, trigram, NULLS FIRST); the tables do not declare them.
POSTGRES_ONLY = {
    "events_data_gin_idx",
    "events_meta_gin_idx",
    "events_type_trgm_idx",
    "events_type_lower_trgm_idx",
    "events_user_id_nulls_first_id_idx",
}


async def _differences(url: str) -> list[Any]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(sync, opts={"compare_type": True}), metadata
                )
            )
    finally:
        await engine.dispose()


async def _gin_storage_parameters(url: str) -> dict[str, list[str] | None]:
    """Every GIN index of ``events`` and its storage parameters."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                text(
                    "SELECT i.relname, i.reloptions FROM pg_index x"
                    " JOIN pg_class i ON i.oid = x.indexrelid"
                    " JOIN pg_am a ON a.oid = i.relam"
                    " WHERE x.indrelid = 'events'::regclass AND a.amname = 'gin'"
                )
            )
            return {str(name): options for name, options in rows}
    finally:
        await engine.dispose()


def _describe(diff: Any) -> tuple[str, str]:
    kind, target = diff[0], diff[1]
    return kind, getattr(target, "name", str(target))


def test_migrated_schema_matches_the_tables(database_url: str, dialect: str) -> None:
    diffs = [_describe(d) for d in asyncio.run(_differences(database_url))]
    expected = (
        {("remove_index", name) for name in POSTGRES_ONLY} if dialect == "postgresql" else set()
    )
    assert set(diffs) == expected, diffs


def test_downgrade_to_base_and_back(database_url: str, dialect: str) -> None:
    downgrade(database_url, "base")
    # Everything is gone: every table (and its indexes) would have to be created again.
    assert {_describe(d)[0] for d in asyncio.run(_differences(database_url))} == {
        "add_table",
        "add_index",
    }
    upgrade(database_url)
    test_migrated_schema_matches_the_tables(database_url, dialect)


GIN_INDEXES = {
    "events_data_gin_idx",
    "events_meta_gin_idx",
    "events_type_trgm_idx",
    "events_type_lower_trgm_idx",
}


def test_gin_indexes_move_their_pending_lists_in_small_steps(
    database_url: str, dialect: str
) -> None:
    """At the default 4 MB, one publish moved the whole pending list and held every other
    publish for a quarter of a second (migration 0011); a GIN index added later needs the
    same setting."""
    if dialect != "postgresql":
        pytest.skip("GIN indexes are PostgreSQL's")
    options = asyncio.run(_gin_storage_parameters(database_url))
    assert set(options) >= GIN_INDEXES
    assert options == {name: ["gin_pending_list_limit=64"] for name in options}
