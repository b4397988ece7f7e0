"""``run_until_wait``: a send run in the fan-out's task up to its first wait, the rest in a
task of its own (``graphql_schema/subscription/direct.py``)."""

from __future__ import annotations

import asyncio

import pytest

from graphql_schema.subscription.direct import run_until_wait


async def test_a_coroutine_that_does_not_wait_runs_to_its_end_in_the_caller() -> None:
    done: list[str] = []

    async def send() -> None:
        done.append("sent")

    assert run_until_wait(send()) is None
    assert done == ["sent"]


async def test_an_error_before_any_wait_is_raised_in_the_caller() -> None:
    async def send() -> None:
        raise ConnectionError("gone")

    with pytest.raises(ConnectionError):
        run_until_wait(send())


async def test_a_coroutine_that_waits_finishes_in_a_task_with_what_it_waited_for() -> None:
    writable = asyncio.Event()
    done: list[object] = []

    async def send() -> None:
        done.append("before")
        await writable.wait()
        done.append(await asyncio.sleep(0, result="after"))

    rest = run_until_wait(send())
    assert rest is not None
    assert done == ["before"]
    await asyncio.sleep(0.01)
    assert not rest.done()
    writable.set()
    await asyncio.wait_for(rest, 5)
    assert done == ["before", "after"]


async def test_a_waiting_coroutine_sees_the_cancellation_and_its_error_is_kept() -> None:
    cleaned: list[str] = []

    async def send() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            cleaned.append("finally")

    rest = run_until_wait(send())
    assert rest is not None
    await asyncio.sleep(0)
    rest.cancel()
    with pytest.raises(asyncio.CancelledError):
        await rest
    assert cleaned == ["finally"]

    # Cancelled after what it waits for is done, before it runs on: still cancelled.
    answer: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    got: list[int] = []

    async def reads() -> None:
        got.append(await answer)

    reading = run_until_wait(reads())
    assert reading is not None
    await asyncio.sleep(0)
    answer.set_result(1)
    reading.cancel()
    with pytest.raises(asyncio.CancelledError):
        await reading
    assert got == []

    async def fails() -> None:
        await asyncio.sleep(0)
        raise ConnectionError("gone")

    failing = run_until_wait(fails())
    assert failing is not None
    with pytest.raises(ConnectionError):
        await failing
