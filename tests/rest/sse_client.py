"""A minimal ``text/event-stream`` reader over an httpx streaming response (test side)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import orjson


@dataclass
class Message:
    """One dispatched message; ``comment`` is set (and nothing else) for ``:`` lines."""

    event: str = "message"
    data: str = ""
    id: str | None = None
    comment: str | None = None

    def json(self) -> Any:
        return orjson.loads(self.data)


async def messages(response: httpx.Response) -> AsyncIterator[Message]:
    """Messages and comments in arrival order, as the SSE spec splits them."""
    current = Message()
    data: list[str] = []
    async for line in response.aiter_lines():
        if line == "":
            if data or current.id is not None or current.event != "message":
                current.data = "\n".join(data)
                yield current
            current, data = Message(), []
            continue
        if line.startswith(":"):
            yield Message(event="", comment=line[1:].strip())
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            data.append(value)
        elif name == "id":
            current.id = value
        elif name == "event":
            current.event = value


async def take(stream: AsyncIterator[Message], count: int, *, seconds: float = 60) -> list[Message]:
    """The next ``count`` non-comment messages, failing after ``seconds``."""
    got: list[Message] = []
    async with asyncio.timeout(seconds):
        async for message in stream:
            if message.comment is None:
                got.append(message)
                if len(got) == count:
                    break
    return got
