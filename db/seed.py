"""Set-based seeding: the benchmark dataset and a handful of friendly demo events.

The benchmark dataset reproduces the distribution of the reference benchmark
(``../shared/perf/seed.sql``): 20 event types with Zipf 1/k weights, 50 workspaces,
200 channels chosen with a skew (every 7th private), 1,000 users, 10,000 subjects,
25 publishers, 10 % of events with an earlier parent, a ~210-byte ``data`` object and a
small ``meta``, ``created_at`` strictly increasing over the last 365 days and ULID-like ids
in the same order. ``seq`` (the commit position) is the row number.

PostgreSQL builds every row in one ``INSERT ... SELECT ... FROM generate_series`` with the
secondary indexes of ``events`` dropped, and recreates them from their own definitions in
the same transaction (building an index once is several times cheaper than maintaining it
row by row). SQLite, the embedded demo, takes the same rows built in Python
(``db/seed_rows.py``) in batched ``executemany`` inserts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from db.database import Database
from db.seed_rows import (
    CHANNELS,
    CROCKFORD,
    WORKSPACES,
    channel_rows,
    demo_rows,
    event_batches,
    step_ms,
    type_slots,
    workspace_rows,
)
from db.tables import channels_table, events_table, workspaces_table


class SeedConflictError(Exception):
    """The database already holds data and replacing it was not asked for."""


@dataclass(frozen=True, slots=True)
class SeedStatus:
    """How many events the database holds and when the newest was created."""

    events: int
    newest: datetime | None


async def seed_status(db: Database) -> SeedStatus:
    """Count events and find the newest ``created_at`` (to decide whether to re-seed)."""
    async with db.read() as conn:
        row = (await conn.execute(text("SELECT count(*), max(created_at) FROM events"))).one()
    newest = row[1]
    if isinstance(newest, str):  # SQLite stores the fixed-width text form
        newest = datetime.fromisoformat(newest + "+00:00")
    return SeedStatus(events=int(row[0]), newest=newest)


async def _ensure_empty(conn: AsyncConnection, *, replace: bool) -> None:
    if replace:
        # Tokens are kept; they only name channels inside JSON.
        if conn.dialect.name == "postgresql":
            await conn.execute(text("TRUNCATE events, event_counts, channels, workspaces"))
        else:
            for table in ("events", "channels", "workspaces"):
                await conn.execute(text(f"DELETE FROM {table}"))  # noqa: S608 - fixed names
        return
    held = (
        await conn.execute(
            text("SELECT (SELECT count(*) FROM events) + (SELECT count(*) FROM workspaces)")
        )
    ).scalar_one()
    if held:
        raise SeedConflictError("the database already holds events or workspaces")


async def _set_position(conn: AsyncConnection) -> None:
    await conn.execute(
        text(
            "UPDATE event_positions SET last_seq = (SELECT coalesce(max(seq), 0) FROM events)"
            " WHERE id = 1"
        )
    )


async def seed_benchmark(db: Database, events: int, *, replace: bool = False) -> int:
    """Fill workspaces, channels and ``events`` events; return the number of events.

    Raises ``SeedConflictError`` when the database holds data and ``replace`` is false; with
    ``replace`` the events, channels and workspaces are deleted first (tokens are kept) and
    commit positions restart at 1.
    """
    if events < 1:
        raise ValueError("events must be at least 1")
    if db.dialect == "postgresql":
        await _seed_postgres(db, events, replace=replace)
        await _analyze(db, vacuum=True)
    else:
        now = datetime.now(UTC)
        async with db.transaction() as conn:
            await _ensure_empty(conn, replace=replace)
            await conn.execute(workspaces_table.insert(), workspace_rows(now))
            await conn.execute(channels_table.insert(), channel_rows(now))
            for batch in event_batches(events, now):
                await conn.execute(events_table.insert(), batch)
            await _set_position(conn)
        await _analyze(db, vacuum=False)
    return events


async def seed_demo(db: Database, now: datetime) -> int:
    """Add a small demo workspace with a few channels and friendly events; return how many.

    Safe to run twice: raises ``SeedConflictError`` when the demo workspace already exists.
    """
    workspace, channels, events = demo_rows(now)
    async with db.transaction() as conn:
        exists = (
            await conn.execute(
                text("SELECT count(*) FROM workspaces WHERE id = :id"), {"id": workspace["id"]}
            )
        ).scalar_one()
        if exists:
            raise SeedConflictError(f"the demo workspace {workspace['id']!r} already exists")
        last = (
            await conn.execute(
                text(
                    "UPDATE event_positions SET last_seq = last_seq + :n WHERE id = 1"
                    " RETURNING last_seq"
                ),
                {"n": len(events)},
            )
        ).scalar_one()
        first_seq = int(last) - len(events) + 1
        await conn.execute(workspaces_table.insert(), [workspace])
        await conn.execute(channels_table.insert(), channels)
        rows = [{**event, "seq": first_seq + i} for i, event in enumerate(events)]
        await conn.execute(events_table.insert(), rows)
    return len(events)


async def _analyze(db: Database, *, vacuum: bool) -> None:
    async with db.engine.connect() as raw:
        conn = await raw.execution_options(isolation_level="AUTOCOMMIT")
        statement = "VACUUM ANALYZE" if vacuum else "ANALYZE"
        for table in ("workspaces", "channels", "events"):
            await conn.execute(text(f"{statement} {table}"))


# --- PostgreSQL -------------------------------------------------------------------------


def _pg_ulid(ms: str, n: str) -> str:
    """SQL for a 26-char ULID-like id: Crockford base32 of ``ms``, then 16 hex chars of n."""
    chars = " || ".join(
        f"substr('{CROCKFORD}', ((({ms}) >> {shift}) & 31)::int + 1, 1)"
        for shift in range(45, -1, -5)
    )
    return f"({chars} || upper(substr(md5(({n})::text), 1, 16)))"


def _pg_ms(n: str, step: int) -> str:
    # Jitter below one step keeps created_at strictly increasing in n (and the last one
    # in the past).
    return f"(p.base_ms + (({n}) - 1) * {step} + ((({n}) * 7919) % {step}))"


def _pg_type(slot: str) -> str:
    # A CASE over 20 limits is cheaper per row than subscripting a 10,000-element array.
    branches = " ".join(f"WHEN {slot} < {limit} THEN '{name}'" for limit, name in type_slots())
    return f"(CASE {branches} END)"


def pg_event_insert(events: int) -> str:
    """The one ``INSERT ... SELECT`` that builds every event row on PostgreSQL."""
    step, count = step_ms(events), int(events)
    parent_n = "(1 + floor(g.r5 * (g.n - 1))::bigint)"
    # Only integers and our own constants are interpolated.
    return f"""
INSERT INTO events (id, seq, type, channel_id, workspace_id, subject_id, user_id, parent_id,
                    publisher_id, publisher_name, data, meta, created_at)
SELECT
  {_pg_ulid(_pg_ms("g.n", step), "g.n")},
  g.n,
  {_pg_type("floor(g.r1 * 10000)::int")},
  'ch_' || lpad(g.ch::text, 3, '0'),
  'ws_' || lpad((((g.ch - 1) % {WORKSPACES}) + 1)::text, 2, '0'),
  'subj_' || lpad((1 + floor(g.r3 * 10000))::int::text, 5, '0'),
  'user_' || lpad(g.u::text, 4, '0'),
  CASE WHEN g.r4 < 0.10 AND g.n > 1
       THEN {_pg_ulid(_pg_ms(parent_n, step), parent_n)} END,
  'pub_' || (g.n % 25),
  'Publisher ' || (g.n % 25),
  jsonb_build_object(
    'name', 'item-' || g.n,
    'status', (ARRAY['active','pending','done','failed'])[1 + (g.n % 4)::int],
    'count', (g.r3 * 1000)::int,
    'score', round((g.r1 * 100)::numeric, 3),
    'tags', jsonb_build_array('t' || (g.n % 13), 't' || (g.n % 7), 't' || (g.n % 3)),
    'note', md5(g.n::text) || md5((g.n + 1)::text),
    'flags', jsonb_build_object('a', g.n % 2 = 0, 'b', g.n % 3 = 0)
  ),
  jsonb_build_object('source', 'seed', 'version', 1,
                     'ip', '10.0.' || (g.n % 256) || '.' || (g.n % 251)),
  to_timestamp({_pg_ms("g.n", step)} / 1000.0)
FROM (SELECT (extract(epoch FROM now() - interval '365 days') * 1000)::bigint AS base_ms) p,
LATERAL (
  SELECT n, random() AS r1, 1 + floor(power(random(), 1.5) * {CHANNELS})::int AS ch,
         random() AS r3, 1 + floor(random() * 1000)::int AS u, random() AS r4, random() AS r5
  FROM generate_series(1::bigint, {count}) n
) g"""  # noqa: S608


# Secondary indexes of events (not the primary key): dropped during the bulk insert and
# recreated from their own definitions, so whatever the migrations declare is kept.
PG_SECONDARY_INDEXES = """
SELECT i.indexname, i.indexdef FROM pg_indexes i
WHERE i.tablename = 'events' AND i.schemaname = current_schema()
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c
                  WHERE c.conrelid = 'events'::regclass AND c.conname = i.indexname)
ORDER BY i.indexname"""


async def _seed_postgres(db: Database, events: int, *, replace: bool) -> None:
    async with db.transaction() as conn:
        await conn.execute(text("SET LOCAL synchronous_commit = off"))
        await conn.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
        await _ensure_empty(conn, replace=replace)
        indexes: Sequence[tuple[str, str]] = [
            (str(r[0]), str(r[1])) for r in (await conn.execute(text(PG_SECONDARY_INDEXES)))
        ]
        for name, _ in indexes:
            await conn.execute(text(f'DROP INDEX "{name}"'))
        await conn.execute(text("SELECT setseed(0.42)"))
        now = datetime.now(UTC)
        await conn.execute(workspaces_table.insert(), workspace_rows(now))
        await conn.execute(channels_table.insert(), channel_rows(now))
        await conn.execute(text(pg_event_insert(events)))
        for _, definition in indexes:
            await conn.execute(text(definition))
        await _set_position(conn)
