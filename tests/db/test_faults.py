"""The one mapping of database failures to ``DatabaseUnavailable`` (→ 503), and what stays
a real error (→ 500)."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy.exc import DBAPIError, IntegrityError, ProgrammingError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from db.faults import DatabaseBusy, DatabaseUnavailable, as_unavailable


class _PgError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


def _caused_by(cause: BaseException) -> Exception:
    try:
        raise RuntimeError("wrapper") from cause
    except RuntimeError as exc:
        return exc


@pytest.mark.parametrize(
    "exc",
    [
        PoolTimeout("QueuePool limit of size 5 overflow 10 reached"),
        ConnectionRefusedError(111, "Connect call failed"),
        TimeoutError(),
        _caused_by(ConnectionResetError()),
        DBAPIError("SELECT 1", {}, Exception("closed"), connection_invalidated=True),
        _caused_by(_PgError("57P01")),  # terminating connection due to administrator command
        _caused_by(_PgError("08006")),  # connection failure
        _caused_by(_PgError("53300")),  # too many connections
        sqlite3.OperationalError("unable to open database file"),
    ],
)
def test_unavailable(exc: Exception) -> None:
    mapped = as_unavailable(exc)
    assert isinstance(mapped, DatabaseUnavailable)
    assert not isinstance(mapped, DatabaseBusy)


def test_sqlite_lock_is_busy() -> None:
    assert isinstance(
        as_unavailable(_caused_by(sqlite3.OperationalError("database is locked"))), DatabaseBusy
    )


@pytest.mark.parametrize(
    "exc",
    [
        IntegrityError("INSERT", {}, Exception("duplicate key")),
        ProgrammingError("SELEC", {}, _PgError("42601")),  # a syntax error is our bug
        _caused_by(_PgError("23505")),
        sqlite3.OperationalError("no such table: events"),
        ValueError("not a database problem"),
    ],
)
def test_real_errors_stay_errors(exc: Exception) -> None:
    assert as_unavailable(exc) is None
