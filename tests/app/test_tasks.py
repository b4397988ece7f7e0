"""Shutdown steps (app/tasks.py): a task that ignores a cancel is cancelled again, a step that
overruns is cut off and named in a warning with the stuck task's stack."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import pytest

from app.tasks import bounded, cancel_and_wait


async def _ignores_one_cancel() -> None:
    with contextlib.suppress(asyncio.CancelledError):  # as wait_for may on 3.11 (gh-86296)
        await asyncio.sleep(3600)
    await asyncio.sleep(3600)


async def test_a_task_that_swallows_its_cancel_is_cancelled_again_at_the_limit(
    caplog: pytest.LogCaptureFixture,
) -> None:
    task = asyncio.create_task(_ignores_one_cancel(), name="stubborn")
    await asyncio.sleep(0)
    async with asyncio.timeout(10):
        finished = await bounded("the stubborn step", cancel_and_wait(task), 0.2)
    assert not finished
    await asyncio.sleep(0)
    assert task.cancelled()
    [record] = [r for r in caplog.records if r.name == "eventgraph.shutdown"]
    assert record.levelno == logging.WARNING
    assert "the stubborn step did not finish in 0 s" in record.getMessage()
    assert "_ignores_one_cancel" in record.getMessage()  # the stuck task's stack


async def test_cancel_and_wait_ends_plain_tasks_and_logs_their_failures(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def fails_when_cancelled() -> None:
        try:
            await asyncio.sleep(3600)
        finally:
            raise RuntimeError("boom")

    plain = asyncio.create_task(asyncio.sleep(3600))
    failing = asyncio.create_task(fails_when_cancelled(), name="failing")
    await asyncio.sleep(0)
    assert await bounded("two tasks", cancel_and_wait(plain, None, failing), 5)
    assert plain.cancelled()
    assert failing.done()
    assert [r.getMessage() for r in caplog.records] == ["task failing failed"]
