"""A page statement on PostgreSQL sent through asyncpg itself, past SQLAlchemy's execution.

SQLAlchemy's execute costs about as much CPU per 50-row page as the driver's own fetch
(execution context, cursor adaptation, result metadata, row mappings). A page statement
is built once per plan shape (``event_statements``), so it is compiled here once too,
into its SQL text, the order of its positional parameters, the values fixed in it and
its bind processors; a request then binds its values in that order and calls
``fetch`` on the connection SQLAlchemy checked out (same pool, same codecs).

A statement is sent this way only when that is exactly what SQLAlchemy would send and
return: no parameter rendered per execution (expanding ``IN`` lists, literal binds),
every result column under its own name, outside a transaction (a snapshot's first
statement would otherwise run before SQLAlchemy's BEGIN), and while no ``before_cursor_execute`` /
``after_cursor_execute`` listener watches the engine (tests counting statements, the
bench capturing them see SQLAlchemy's path). Rows come back as dicts (which read like
SQLAlchemy's row mappings) with the columns' result processors applied. Anything else,
and SQLite, takes ``conn.execute``. A failure other than the statement timeout runs the
statement once more through SQLAlchemy on the same connection (a read has no effect),
so a lost connection is recognised, discarded and retried exactly as before.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
from sqlalchemy import Select
from sqlalchemy.engine import Dialect

from db.database import ReadConn
from db.engine import statements_watched

_CACHE_SIZE = 512


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    names: tuple[str, ...]
    fixed: dict[str, Any]
    processors: Mapping[str, Callable[[Any], Any]]
    results: tuple[tuple[str, Callable[[Any], Any]], ...]
    """Result processors by column (``UtcDateTime``'s zone normalisation)."""

    def arguments(self, params: Mapping[str, Any]) -> list[Any]:
        values = {**self.fixed, **params}
        processors = self.processors
        out = []
        for name in self.names:
            value = values[name]
            processor = processors.get(name)
            out.append(value if processor is None else processor(value))
        return out


_COMPILED: OrderedDict[int, tuple[Select[Any], _Compiled | None]] = OrderedDict()


def _compile(stmt: Select[Any], dialect: Dialect) -> _Compiled | None:
    compiled: Any = stmt.compile(dialect=dialect)
    if compiled.literal_execute_params or compiled.post_compile_params:
        return None
    results: list[tuple[str, Callable[[Any], Any]]] = []
    for column in compiled._result_columns:
        if column.keyname != column.name:
            return None
        processor = column.type._cached_result_processor(dialect, None)
        if processor is not None:
            results.append((column.name, processor))
    names = tuple(compiled.positiontup or ())
    bound = compiled.construct_params(_check=False)
    fixed = {name: value for name, value in bound.items() if name in names}
    return _Compiled(compiled.string, names, fixed, compiled._bind_processors, tuple(results))


def _compiled(stmt: Select[Any], dialect: Dialect) -> _Compiled | None:
    known = _COMPILED.get(id(stmt))
    if known is not None and known[0] is stmt:
        _COMPILED.move_to_end(id(stmt))
        return known[1]
    compiled = _compile(stmt, dialect)
    _COMPILED[id(stmt)] = (stmt, compiled)
    if len(_COMPILED) > _CACHE_SIZE:
        _COMPILED.popitem(last=False)
    return compiled


async def fetch_rows(
    conn: ReadConn, stmt: Select[Any], params: dict[str, Any]
) -> Sequence[Mapping[str, Any]]:
    """The rows of ``stmt`` with ``params``, as mappings by column name."""
    compiled = None
    # In a transaction (``Database.snapshot``: the page and its total in one snapshot)
    # SQLAlchemy's driver adapter sends its BEGIN with the first statement it executes.
    if conn.dialect.name == "postgresql" and not conn.in_transaction() and not _watched(conn):
        compiled = _compiled(stmt, conn.dialect)
    if compiled is None:
        return await _through_sqlalchemy(conn, stmt, params)
    driver = await _driver(conn)
    try:
        records = await driver.fetch(compiled.sql, *compiled.arguments(params))
    except asyncpg.exceptions.QueryCanceledError:
        raise  # the statement timeout: mapped to 503 QUERY_TIMEOUT, never sent twice
    except Exception:
        return await _through_sqlalchemy(conn, stmt, params)
    if not records:
        return []
    # dicts, not Records: a Record iterates (and answers ``in``) over its values. Zipped
    # with the names: ``dict(record)`` looks each key up again.
    names = tuple(records[0].keys())
    rows = [dict(zip(names, record, strict=True)) for record in records]
    for name, processor in compiled.results:
        for row in rows:
            row[name] = processor(row[name])
    return rows


async def _driver(conn: ReadConn) -> Any:
    """The asyncpg connection under ``conn``: read off the checked-out connection
    (``get_raw_connection`` switches greenlets to do the same, about 20 µs), unless it
    was invalidated (then SQLAlchemy's own way, which may reconnect)."""
    sync = conn.sync_connection
    if sync is not None and not sync.invalidated:
        return sync.connection.driver_connection
    return (await conn.get_raw_connection()).driver_connection


def _watched(conn: ReadConn) -> bool:
    dispatch = conn.sync_connection.dispatch if conn.sync_connection else None
    return dispatch is None or statements_watched(dispatch)


async def _through_sqlalchemy(
    conn: ReadConn, stmt: Select[Any], params: dict[str, Any]
) -> Sequence[Mapping[str, Any]]:
    rows: Sequence[Mapping[str, Any]] = (await conn.execute(stmt, params)).mappings().all()
    return rows
