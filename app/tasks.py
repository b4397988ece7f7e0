"""Ending background tasks at shutdown: cancelled for real, each step bounded and named.

Two traps held a lifespan shutdown forever. ``with suppress(CancelledError): await task``
also swallows the cancellation of the caller (a time limit on the step then never fires),
and on Python 3.11 ``asyncio.wait_for`` swallows a cancellation that arrives just as what
it waits for finishes (gh-86296; ruff bans it here, ``asyncio.timeout`` is used instead),
so a task can outlive its ``cancel()``.
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Awaitable
from typing import Any

logger = logging.getLogger("eventgraph.shutdown")


async def cancel_and_wait(*tasks: asyncio.Task[Any] | None) -> None:
    """Cancel ``tasks`` and return once they have ended. Cancelled while waiting (a step's
    time limit), it cancels them again and raises. A task's own failure is logged."""
    live = [task for task in tasks if task is not None]
    for task in live:
        task.cancel()
    if not live:
        return
    try:
        await asyncio.wait(live)
    except asyncio.CancelledError:
        for task in live:
            task.cancel()
        raise
    for task in live:
        if not task.cancelled() and (exc := task.exception()) is not None:
            logger.error("task %s failed", task.get_name(), exc_info=exc)


async def bounded(step: str, work: Awaitable[None], seconds: float) -> bool:
    """Await ``work`` for at most ``seconds``; past that, cancel it, log a warning naming
    ``step`` with the stacks of the tasks still running, and return False."""
    try:
        async with asyncio.timeout(seconds):
            await work
    except TimeoutError:
        logger.warning(
            "shutdown: %s did not finish in %.0f s; going on without it. Tasks:\n%s",
            step,
            seconds,
            task_stacks(),
        )
        return False
    return True


def task_stacks() -> str:
    """The stack of every other task of the running loop (for a shutdown that overran)."""
    out = io.StringIO()
    current = asyncio.current_task()
    for task in asyncio.all_tasks():
        if task is not current:
            task.print_stack(limit=12, file=out)
    return out.getvalue()
