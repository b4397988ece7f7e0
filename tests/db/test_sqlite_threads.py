"""No SQLite worker thread answers into a closed event loop once ``Database.dispose`` returned.

aiosqlite hands each result back with ``loop.call_soon_threadsafe``; a thread still working
when the loop closes dies with "RuntimeError: Event loop is closed", which pytest reports at
the next test (it failed ``test_healthz_answers`` after the unopenable-SQLite test in the
PostgreSQL run). Each scenario runs in a fresh loop closed right after ``dispose``, as a
test's loop is. Without the wait in ``Database.dispose`` about half of the failed-connect
rounds fail; without the interrupt of a cancelled statement, its task takes seconds to end.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from db.database import Database, DatabaseUnavailable

ROUNDS = 20
SLOW = (
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 10000000)"
    " SELECT count(*) FROM c"
)


@contextlib.contextmanager
def thread_exceptions() -> Iterator[list[BaseException | None]]:
    seen: list[BaseException | None] = []
    previous = threading.excepthook
    threading.excepthook = lambda args: seen.append(args.exc_value)
    try:
        yield seen
    finally:
        threading.excepthook = previous


async def _failed_connect(path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{path}/missing-directory/eventgraph.db")
    try:
        with pytest.raises(DatabaseUnavailable):
            async with db.read():
                pass
    finally:
        await db.dispose()


async def _cancelled_statement(path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{path}/eventgraph.db")  # no statement budget

    async def slow() -> None:
        async with db.read() as conn:
            await conn.execute(text(SLOW))

    try:
        task = asyncio.create_task(slow())
        await asyncio.sleep(0.05)
        task.cancel()
        cancelled = time.monotonic()
        with contextlib.suppress(asyncio.CancelledError, DatabaseUnavailable):
            await task
        # Interrupted; run to its end, the statement takes seconds.
        assert time.monotonic() - cancelled < 2
    finally:
        await db.dispose()


@pytest.mark.parametrize(
    ("scenario", "rounds"),
    [(_failed_connect, ROUNDS), (_cancelled_statement, 3)],
    ids=["failed-connect", "cancelled-statement"],
)
def test_no_worker_thread_outlives_dispose(
    scenario: Callable[[Path], Awaitable[None]], rounds: int, tmp_path: Path
) -> None:
    with thread_exceptions() as seen:
        for _ in range(rounds):
            loop = asyncio.new_event_loop()
            try:
                loop.run_until_complete(scenario(tmp_path))
            finally:
                loop.close()
        workers = [t for t in threading.enumerate() if "_connection_worker_thread" in t.name]
        for thread in workers:
            thread.join(2)
    assert seen == []
    assert not any(t.is_alive() for t in workers)
