"""The worker threads of SQLite connections, opened here so that none outlives its ``Database``.

aiosqlite runs each connection on a thread that hands every result back to the event loop
(``loop.call_soon_threadsafe``). A thread still working when the loop closes fails with
"RuntimeError: Event loop is closed" (an unhandled thread exception). aiosqlite leaves a
thread working unseen in two cases: a connect that fails or is cancelled queues the thread's
stop without waiting for it, and so does a connection SQLAlchemy terminates (a cancelled
close, a connection lost to the garbage collector). ``SqliteThreads.connect`` waits for the
thread of a failed connect; ``SqliteThreads.ended`` lets ``Database.dispose`` wait for every
thread whose connection is closing.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import weakref
from typing import Any

import aiosqlite

logger = logging.getLogger("eventgraph.db")

# A stopping thread ends within microseconds; these bound a wait that should never be long.
FAILED_CONNECT_WAIT_S = 1.0
DISPOSE_WAIT_S = 5.0


class SqliteThreads:
    """The connections opened through ``connect`` and their worker threads."""

    def __init__(self) -> None:
        self._opened: dict[threading.Thread, weakref.ref[aiosqlite.Connection]] = {}

    async def connect(self, *args: Any, **kwargs: Any) -> aiosqlite.Connection:
        """``aiosqlite.connect(*args, **kwargs)``; SQLAlchemy's ``async_creator_fn``."""
        pending = aiosqlite.connect(*args, **kwargs)
        thread = pending._thread  # (aiosqlite exposes no other handle)
        thread.daemon = True  # as SQLAlchemy sets it: a forgotten connection never holds exit
        self._opened = {t: ref for t, ref in self._opened.items() if t.is_alive()}
        self._opened[thread] = weakref.ref(pending)
        try:
            return await pending
        except BaseException:
            # aiosqlite has queued the thread's stop; its answer must reach a running loop.
            await _joined([thread], FAILED_CONNECT_WAIT_S)
            raise

    async def ended(self) -> None:
        """Return once the thread of every connection that is closed or closing has ended
        (the engines are disposed first). A connection still open (checked out and never
        returned) keeps its thread: it is logged, not waited for."""
        stopping: list[threading.Thread] = []
        still_open = 0
        for thread, ref in self._opened.items():
            connection = ref()
            if connection is not None and connection._running:
                still_open += 1
            elif thread.is_alive():
                stopping.append(thread)
        late = await _joined(stopping, DISPOSE_WAIT_S)
        if still_open or late:
            logger.warning(
                "SQLite connections at dispose: %d still open, %d threads not ended in %.0f s",
                still_open,
                late,
                DISPOSE_WAIT_S,
            )


async def _joined(threads: list[threading.Thread], seconds: float) -> int:
    """Wait (without blocking the loop) for ``threads`` to end; return how many did not."""
    deadline = time.monotonic() + seconds
    alive = [t for t in threads if t.is_alive()]
    while alive and time.monotonic() < deadline:
        await asyncio.sleep(0.001)
        alive = [t for t in alive if t.is_alive()]
    return len(alive)
