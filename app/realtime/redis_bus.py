"""The Redis bus on redis.asyncio: PUBLISH / SUBSCRIBE with a watched connection.

broadcaster's Redis backend has an unbounded queue and no reconnect handling of its own;
redis-py's automatic retries would hide a lost connection from ``/readyz`` and the metrics.
Here retries are off: a lost or silent connection (``CLIENT KILL``, a restart) surfaces as
an error, the bus reports it and reconnects with capped exponential backoff.

The channel is ``eventgraph_events:<deployment id>``: the id lives in the database
(``db/repositories/deployment.py``), so processes on one database share the channel and
deployments on different databases sharing one Redis never wake each other.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from contextlib import suppress

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.backoff import NoBackoff
from redis.retry import Retry

from app.realtime.bus import CHANNEL, OnMessage, record_state, wait_up
from app.tasks import cancel_and_wait
from db.database import Database, WriteConn
from db.notify import Notice
from db.repositories.deployment import deployment_id

logger = logging.getLogger("eventgraph.realtime.bus")

MAX_BACKOFF_SECONDS = 5.0
CLIENT_NAME = "eventgraph-bus"  # + "-<pid>", in Redis's CLIENT LIST
CLOSE_SECONDS = 5.0  # closing a connection never holds shutdown longer than this


class RedisBus:
    name = "redis"
    at_commit = False  # sends after the commit

    def __init__(self, url: str, check_seconds: float, db: Database) -> None:
        self._url = url
        self._db = db
        self._channel: str | None = None  # set by start()
        self._check = check_seconds
        self._publisher = self._client()
        self._task: asyncio.Task[None] | None = None
        self._up = asyncio.Event()
        self._connected = False

    def _client(self) -> Redis:
        return Redis.from_url(
            self._url,
            retry=Retry(NoBackoff(), 0),
            socket_connect_timeout=self._check * 5,
            health_check_interval=0,
            # Operators (and the tests) can tell one process's bus connection apart.
            client_name=f"{CLIENT_NAME}-{os.getpid()}",
        )

    @property
    def connected(self) -> bool:
        return self._connected

    @property
    def channel(self) -> str:
        if self._channel is None:
            raise RuntimeError("the Redis bus is not started")
        return self._channel

    async def start(self, on_message: OnMessage) -> None:
        self._channel = f"{CHANNEL}:{await deployment_id(self._db)}"
        self._task = asyncio.create_task(self._run(on_message), name="eventgraph-redis-bus")
        await wait_up(self._up, self._check)

    async def publish(self, message: str) -> None:
        await self._publisher.publish(self.channel, message)

    async def stage(self, conn: WriteConn, message: str) -> None:
        raise NotImplementedError("the Redis bus sends after the commit")

    def commit_notice(self, message: str) -> Notice:
        raise NotImplementedError("the Redis bus sends after the commit")

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        with suppress(TimeoutError):
            async with asyncio.timeout(CLOSE_SECONDS):
                await self._publisher.aclose()

    def _set(self, connected: bool, reconnect: bool) -> None:
        self._connected = connected
        if connected:
            self._up.set()
        record_state(self.name, connected, reconnect)

    async def _run(self, on_message: OnMessage) -> None:
        delay = 0.1
        ever_connected = False
        while True:
            client = self._client()
            pubsub = client.pubsub()
            try:
                await pubsub.subscribe(self.channel)
                self._set(True, ever_connected)
                on_message("")  # read at once: something may have been missed meanwhile
                ever_connected, delay = True, 0.1
                await self._listen(pubsub, on_message)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # any failure means "reconnect"
                logger.warning("Redis bus connection lost: %s", exc)
            finally:
                if self._connected:
                    self._set(False, False)
                with suppress(Exception):
                    async with asyncio.timeout(CLOSE_SECONDS):
                        await pubsub.aclose()  # type: ignore[no-untyped-call]
                with suppress(Exception):
                    async with asyncio.timeout(CLOSE_SECONDS):
                        await client.aclose()
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_BACKOFF_SECONDS)

    async def _listen(self, pubsub: PubSub, on_message: OnMessage) -> None:
        last_ping = last_heard = time.monotonic()
        while True:
            message = await pubsub.get_message(timeout=self._check)
            now = time.monotonic()
            if message is not None:
                last_heard = now  # a "pong" or any message: the connection is alive
                if message["type"] == "message":
                    on_message(message["data"].decode())
            if now - last_ping >= self._check:
                await pubsub.ping()
                last_ping = now
            if now - last_heard > self._check * 3:
                raise ConnectionError("no reply to PING from Redis")
