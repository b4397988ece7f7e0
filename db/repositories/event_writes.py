"""Event writes: batch insert under the commit-ordering position lock, and delete.

Ids and timestamps are assigned before the lock (``prepare``); ``insert_events`` takes
the row lock of ``event_positions`` in its last statement, so the lock is held for one
statement and the commit, and transactions commit in ``seq`` order (docs/architecture.md).
Triggers keep the per-channel counters (``event_counts``) in the same transaction.
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple

import asyncpg
import orjson
from sqlalchemy import JSON, BigInteger, Text, bindparam, delete, insert, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.sql.elements import BindParameter, TextClause
from ulid import ULID

from db.database import ReadConn, WriteConn, writing
from db.faults import is_lost_connection
from db.notify import Notice
from db.publish_connection import PublishConnections
from db.query.scope import ReadScope, readable
from db.repositories.channels import get_channel_versioned, insert_channel
from db.repositories.errors import MissingReferenceError, StaleReferenceError
from db.repositories.workspaces import insert_workspace
from db.tables import events_table, positions_table
from db.types import to_millis

_last_ulid = 0

# Columns bound as text arrays: every stored column but the two the statement assigns
# (data and meta travel as JSON text and are cast back; created_at has its own array).
_TEXT = tuple(c.name for c in events_table.c if c.name not in ("seq", "created_at"))
_JSON = {c.name for c in events_table.c if isinstance(c.type, JSON)}
_COLUMNS = ", ".join(_TEXT)
_PICKED = ", ".join(f"r.{c}::jsonb" if c in _JSON else f"r.{c}" for c in _TEXT)


# One statement on PostgreSQL: reserve positions (taking the lock) and insert the rows
# from arrays; the counters' trigger runs at its end, after the lock (docs/counters.md).
# The rows may be several publishes' (``InsertPart``s, in order): each part's rows get
# contiguous positions. With ``checked``, positions are taken (and rows inserted) only
# while every listed channel row still has the version a part validated against. With
# ``single`` (one row in all) ``r`` is that row from plain values, not arrays: a third less
# of the driver's encoding and of the server's work for the most common publish.
def _insert_pg_sql(*, checked: bool, single: bool) -> str:
    check = (
        " AND (SELECT count(*) FROM channels c,"
        " unnest(CAST(:checked_ids AS text[]), CAST(:checked_versions AS text[])) AS v(id, version)"
        " WHERE c.id = v.id AND c.xmin::text = v.version) = :checked_count"
        if checked
        else ""
    )
    rows = (
        f"SELECT {', '.join(f':{c} AS {c}' for c in _TEXT)},"
        " CAST(:created_at AS timestamptz) AS created_at, CAST(1 AS bigint) AS ord"
        if single
        else f"""SELECT * FROM unnest(
        {", ".join(f":{c}" for c in _TEXT)}, CAST(:created_at AS timestamptz[])
    ) WITH ORDINALITY
        AS r({_COLUMNS}, created_at, ord)"""  # noqa: S608 - names from the table definition
    )
    return f"""
WITH pos AS (
    UPDATE event_positions SET last_seq = last_seq + :n WHERE id = 1{check} RETURNING last_seq
), r AS (
    {rows}
), ins AS (
    INSERT INTO events ({_COLUMNS}, seq, created_at)
    SELECT {_PICKED}, pos.last_seq - :n + r.ord, r.created_at
    FROM pos, r
)"""  # noqa: S608 - column names from the table definition


def _insert_params(*, single: bool) -> tuple[BindParameter[Any], ...]:
    column_type = Text() if single else ARRAY(Text)
    return (
        *(bindparam(c, type_=column_type) for c in _TEXT),
        bindparam("n", type_=BigInteger),
        # As text (ISO 8601 with its offset), cast by the statement: see ``_part_params``.
        bindparam("created_at", type_=column_type),
    )


# Optional parts after the insert: the webhook outbox rows of the parts that have one (each
# row's events' ids and positions built here from its part's range of ``r``, its webhook
# targets computed by the caller; written only when the positions were taken), and a
# pg_notify that PostgreSQL sends when the statement's transaction commits.
_OUTBOX_SQL = """, box AS (
    INSERT INTO webhook_outbox (kind, created_at, entries)
    SELECT b.kind, f.created_at, json_build_object(
        'events',
        (SELECT json_agg(json_build_array(e.id, pos.last_seq - :n + e.ord) ORDER BY e.ord)
         FROM r AS e WHERE e.ord BETWEEN b.first AND b.last),
        'hooks', CAST(b.hooks AS json)
    )::text
    FROM pos, unnest(
        CAST(:outbox_kinds AS text[]), CAST(:outbox_hooks AS text[]),
        CAST(CAST(:outbox_firsts AS text[]) AS bigint[]),
        CAST(CAST(:outbox_lasts AS text[]) AS bigint[])
    ) AS b(kind, hooks, first, last)
    JOIN r AS f ON f.ord = b.first
    ORDER BY b.first
)"""
_NOTIFY_SQL = """, note AS (
    SELECT pg_notify(:notice_channel, :notice_payload) AS sent
)"""


Shape = tuple[bool, bool, bool, bool]
"""(checked, outbox, notice, single): which parts an insert statement has."""


def _insert_statement(shape: Shape) -> TextClause:
    checked, outbox, notice, single = shape
    sql = _insert_pg_sql(checked=checked, single=single)
    sql += (_OUTBOX_SQL if outbox else "") + (_NOTIFY_SQL if notice else "")
    sql += "\nSELECT last_seq FROM pos" + (", note" if notice else "")
    return text(sql).bindparams(*_insert_params(single=single))


# Every shape's statement, built once (building a statement costs more CPU than running it).
_INSERT_PG = {
    (checked, outbox, notice, single): _insert_statement((checked, outbox, notice, single))
    for checked, outbox, notice, single in itertools.product((False, True), repeat=4)
}


class _DriverSql(NamedTuple):
    sql: str
    names: tuple[str, ...]  # the parameters in the order of the SQL's positions
    processors: Mapping[str, Callable[[Any], Any]]

    def arguments(self, params: Mapping[str, Any]) -> tuple[Any, ...]:
        processors = self.processors
        return tuple(
            params[n] if (p := processors.get(n)) is None else p(params[n]) for n in self.names
        )


_DRIVER_SQL: dict[tuple[str, Shape], _DriverSql] = {}


def _driver_sql(dialect: Dialect, key: Shape) -> _DriverSql:
    """``_INSERT_PG[key]`` compiled once by ``dialect`` into its text (with the casts),
    positional order and bind processors: executing that text (``exec_driver_sql``: same
    connection, transaction and error handling) skips SQLAlchemy's per-call cache key and
    compiled-cache lookup, about a quarter of the statement's CPU."""
    found = _DRIVER_SQL.get((dialect.name, key))
    if found is None:
        compiled: Any = _INSERT_PG[key].compile(dialect=dialect)
        names = tuple(compiled.positiontup or ())
        found = _DriverSql(compiled.string, names, compiled._bind_processors)
        _DRIVER_SQL[(dialect.name, key)] = found
    return found


class OutboxRow(NamedTuple):
    """The webhook outbox row a one-statement publish writes beside its events (see
    ``db.tables.WebhookOutboxEntry``): its kind and the JSON of its ``hooks`` entry; the
    ``events`` entry (ids and positions) is built by the statement."""

    kind: str
    hooks: str


class InsertPart(NamedTuple):
    """One publish's share of an insert statement: its ``prepare``d rows (in one channel
    when ``channel_version`` is set), its outbox row, the channel version it checked."""

    rows: list[dict[str, Any]]
    outbox: OutboxRow | None = None
    channel_version: str | None = None


def _next_ulid(created_at: datetime) -> str:
    """A ULID for ``created_at``, strictly greater than the last one this process made."""
    global _last_ulid
    millis = int(created_at.timestamp() * 1000)
    value = (millis << 80) | secrets.randbits(79)
    if value <= _last_ulid:
        value = _last_ulid + 1
    _last_ulid = value
    return str(ULID.from_int(value))


def prepare(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """``rows`` (event columns without ``id``/``seq``/``created_at``) with a new id and
    the current time, ready for ``insert_events``."""
    created_at = to_millis(datetime.now(UTC))
    return [{**row, "id": _next_ulid(created_at), "created_at": created_at} for row in rows]


def _json(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


async def insert_events(
    conn: WriteConn,
    rows: list[dict[str, Any]],
    *,
    notice: Notice | None = None,
    outbox: OutboxRow | None = None,
    channel_version: str | None = None,
) -> list[dict[str, Any]]:
    """Give the ``prepare``d ``rows`` commit positions in list order, insert them and
    count them; returns them with ``seq`` set. ``notice`` (PostgreSQL) is sent by the
    same statement, delivered when its transaction commits; ``outbox`` (PostgreSQL) is
    written by the same statement, queued at the rows' ``created_at``.

    Raises ``MissingReferenceError`` when the channel or workspace no longer exists.
    With ``channel_version`` (PostgreSQL, from ``channels.get_channel_versioned``; all
    rows in one channel) nothing is stored and ``StaleReferenceError`` is raised when
    the channel is no longer at that version.
    """
    if not rows:
        return []
    if conn.dialect.name == "postgresql":
        await insert_parts(conn, [InsertPart(rows, outbox, channel_version)], notice=notice)
        return rows
    if outbox is not None:
        raise ValueError("an outbox row with the insert is PostgreSQL's")
    try:  # one writer at a time: the statements need no particular order
        writing()
        last = await _reserve(conn, len(rows))
        _number(rows, last)
        await conn.execute(insert(events_table), rows)
    except IntegrityError as exc:
        raise MissingReferenceError(str(rows[0].get("channel_id"))) from exc
    return rows


def _part_params(parts: Sequence[InsertPart], *, single: bool) -> dict[str, Any]:
    """The statement's parameters: each column as an array, or (``single``: the parts have
    one row in all) as that row's value."""
    rows = [row for part in parts for row in part.rows]
    params: dict[str, Any] = {c: [row.get(c) for row in rows] for c in _TEXT}
    params["data"] = [_json(row.get("data")) for row in rows]
    params["meta"] = [_json(row.get("meta")) for row in rows]
    # Every array is bound as text[]: asyncpg has no built-in codec for other array
    # types and looks one up with a catalog query (about 5 ms of server time, planned
    # afresh) the first time each connection meets it, on the publish's own path.
    params["created_at"] = [row["created_at"].isoformat() for row in rows]
    if single:
        params = {name: values[0] for name, values in params.items()}
    params["n"] = len(rows)
    checked = {
        (part.rows[0]["channel_id"], part.channel_version)
        for part in parts
        if part.channel_version is not None
    }
    if checked:
        params["checked_ids"] = [channel for channel, _ in checked]
        params["checked_versions"] = [version for _, version in checked]
        params["checked_count"] = len(checked)
    boxes: list[tuple[str, str, int, int]] = []
    first = 1
    for part in parts:
        if part.outbox is not None:
            boxes.append((*part.outbox, first, first + len(part.rows) - 1))
        first += len(part.rows)
    if boxes:
        kinds, hooks, firsts, lasts = zip(*boxes, strict=True)
        params.update(outbox_kinds=list(kinds), outbox_hooks=list(hooks))
        params.update(outbox_firsts=[str(f) for f in firsts], outbox_lasts=[str(x) for x in lasts])
    return params


async def insert_parts(
    conn: WriteConn, parts: Sequence[InsertPart], *, notice: Notice | None = None
) -> None:
    """``insert_events`` for several publishes in one statement (PostgreSQL): all or
    nothing, positions in part order and contiguous within each part; sets ``seq`` on
    every part's rows. ``StaleReferenceError`` when any checked channel version is no
    longer current, ``MissingReferenceError`` when a channel or workspace is gone."""
    driver, params = _statement(conn.dialect, parts, notice)
    try:
        writing()
        result = await conn.exec_driver_sql(driver.sql, driver.arguments(params))
        found = result.scalar_one_or_none()
    except IntegrityError as exc:
        raise MissingReferenceError(str(parts[0].rows[0].get("channel_id"))) from exc
    _numbered(parts, found, params)


async def insert_parts_kept(
    kept: PublishConnections,
    dialect: Dialect,
    parts: Sequence[InsertPart],
    *,
    notice: Notice | None = None,
) -> None:
    """``insert_parts`` sent by asyncpg on one of the ``kept`` connections
    (``db/publish_connection.py``), where it commits on its own."""
    driver, params = _statement(dialect, parts, notice)
    try:
        writing()
        found = await kept.fetchval(driver.sql, driver.arguments(params))
    except asyncpg.IntegrityConstraintViolationError as exc:
        raise MissingReferenceError(str(parts[0].rows[0].get("channel_id"))) from exc
    _numbered(parts, found, params)


def _statement(
    dialect: Dialect, parts: Sequence[InsertPart], notice: Notice | None
) -> tuple[_DriverSql, dict[str, Any]]:
    single = sum(len(part.rows) for part in parts) == 1
    params = _part_params(parts, single=single)
    if notice is not None:
        params["notice_channel"], params["notice_payload"] = notice
    key = ("checked_ids" in params, "outbox_kinds" in params, notice is not None, single)
    return _driver_sql(dialect, key), params


def _numbered(parts: Sequence[InsertPart], found: Any, params: Mapping[str, Any]) -> None:
    """Set ``seq`` on the parts' rows from the statement's last position (``found``)."""
    if found is None:
        raise StaleReferenceError(str(parts[0].rows[0]["channel_id"]))
    last = int(found) - int(params["n"])
    for part in parts:
        last += len(part.rows)
        _number(part.rows, last)


def stored_nothing(exc: BaseException) -> bool:
    """Whether ``exc`` from ``insert_parts(_kept)`` means the database refused the statement (it
    stored nothing and its connection is usable), rather than an unknown outcome."""
    if isinstance(exc, StaleReferenceError | MissingReferenceError):
        return True
    if isinstance(exc, asyncpg.PostgresError):  # sent by asyncpg (``kept``)
        return not is_lost_connection(exc)
    return isinstance(exc, DBAPIError) and not exc.connection_invalidated


def _number(rows: list[dict[str, Any]], last: int) -> None:
    first = last - len(rows) + 1
    for index, row in enumerate(rows):
        row["seq"] = first + index


async def _reserve(conn: WriteConn, count: int) -> int:
    result = await conn.execute(
        update(positions_table)
        .where(positions_table.c.id == 1)
        .values(last_seq=positions_table.c.last_seq + count)
        .returning(positions_table.c.last_seq)
    )
    return int(result.scalar_one())


async def readable_event_ids(
    conn: ReadConn | WriteConn, *, scope: ReadScope, ids: Sequence[str]
) -> set[str]:
    """The ids among ``ids`` naming events ``scope`` can read."""
    if not ids:
        return set()
    result = await conn.execute(
        select(events_table.c.id).where(
            events_table.c.id.in_(sorted(set(ids))), readable(scope, events_table)
        )
    )
    return set(result.scalars())


async def get_readable_event(
    conn: ReadConn | WriteConn, *, scope: ReadScope, event_id: str
) -> dict[str, Any] | None:
    result = await conn.execute(
        select(events_table).where(events_table.c.id == event_id, readable(scope, events_table))
    )
    row = result.mappings().first()
    return dict(row) if row is not None else None


async def delete_event(conn: WriteConn, event_id: str) -> bool:
    """Delete one event; False when it did not exist. Children keep their ``parent_id``."""
    result = await conn.execute(delete(events_table).where(events_table.c.id == event_id))
    return result.rowcount > 0


async def rehearse_publish(conn: WriteConn, *, notice: Notice | None) -> None:
    """Publish one event, then two, into a made-up workspace and channel, for the caller
    to roll back: the connection's server process then has both publish statements (of
    one row, of several) prepared and its caches filled (the table's indexes, the
    foreign-key checks, the counters' trigger).
    Without this, a connection's first publish spends 3-7 ms more in the statement, and
    holds the position lock (so every other publish waits) while it does (PostgreSQL)."""
    made_up = f"eventgraph-rehearsal-{secrets.token_hex(8)}"
    now = datetime.now(UTC)
    await insert_workspace(conn, {"id": made_up, "name": made_up, "created_at": now})
    await insert_channel(
        conn,
        {"id": made_up, "name": made_up, "workspace_id": made_up, "private": False,
         "strict_types": False, "schemas": {}, "created_at": now},
    )  # fmt: skip
    found = await get_channel_versioned(conn, made_up)
    assert found is not None  # written just above, in this transaction
    row = {"type": "rehearsal", "channel_id": made_up, "workspace_id": made_up}
    for rows in ([row], [row, row]):  # the statement of one row, and of several
        await insert_parts(conn, [InsertPart(prepare(rows), None, found[1])], notice=notice)
