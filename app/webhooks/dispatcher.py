"""The per-process dispatcher: claim due deliveries with a lease, POST them, log attempts.

A lease lasts ``2 x webhook_timeout + 5`` seconds, longer than one attempt can take; a
process that dies holding leases leaves them to expire, and any dispatcher then claims
those deliveries again (same ``webhook-id``). At most ``webhook_concurrency`` deliveries
per webhook are leased at a time over all processes (the claim counts live leases under
the webhook's row lock), claimed oldest first. The body is built from the event row when
the delivery is claimed; a delivery whose event was deleted fails without a request.
While the process is busy publishing, rounds are spaced and deliveries start at a bounded
rate (``app.webhooks.pacing``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from app.settings import Settings
from app.webhooks import metrics, sender
from app.webhooks.deliveries import prune_log
from app.webhooks.expansion import expand_outbox, release_ranges
from app.webhooks.outbox import payload
from app.webhooks.outcomes import DELETED_OUTCOME, Finished, Recorder
from app.webhooks.pacing import ROUND_SECONDS, Pacer
from app.webhooks.signing import signed_headers
from db.database import Database, DatabaseUnavailable, ReadConn, WriteConn
from db.repositories import webhook_outbox as outbox_repo
from db.repositories import webhooks as repo

logger = logging.getLogger("eventgraph.webhooks")

STATS_EVERY_SECONDS = 5.0
PRUNE_EVERY_SECONDS = 60.0
RELEASE_EVERY_SECONDS = 0.2

Claimed = tuple[dict[str, Any] | None, list[dict[str, Any]], dict[str, dict[str, Any]]]
"""The locked webhook row (``None``: paused or deleted), its claimed deliveries, their events."""


class Dispatcher:
    def __init__(self, *, db: Database, settings: Settings) -> None:
        self._db = db
        self._settings = settings
        self.owner = f"{socket.gethostname()[:16]}:{os.getpid()}:{secrets.token_hex(4)}"
        self._lease = timedelta(seconds=2 * settings.webhook_timeout + 5)
        self._wakeup = asyncio.Event()
        self._expand = True  # the outbox may have rows (set by ``wake`` and by each poll)
        self._held = True  # pending ranges may wait for room (set by each expansion)
        self._released_at = 0.0
        self._pacer = Pacer(rate=settings.webhook_busy_rate)
        self._paced = False  # the last round used up its tokens (busy): pause, then go on
        self._turn = 0  # which due webhook claims first (rotates: the pace is shared)
        self._tasks: set[asyncio.Task[None]] = set()
        # This process's own requests per webhook: a webhook it alone keeps at the cap is
        # skipped without asking the database (which counts every process's leases).
        self._inflight: defaultdict[str, int] = defaultdict(int)
        self._client = sender.new_client()
        self._recorder = Recorder(db=db, settings=settings, owner=self.owner)
        self._loop: asyncio.Task[None] | None = None
        self._stats_at = 0.0
        self._pruned_at: float | None = None
        self._stopping = False
        self._stopped = asyncio.Event()  # ends a pause at once
        self._sending: set[asyncio.Task[Any]] = set()

    def wake(self) -> None:
        """After a commit that queued outbox rows: expand them and dispatch now."""
        self._pacer.published(asyncio.get_running_loop().time())
        self._expand = True
        self._wakeup.set()

    def start(self) -> None:
        self._loop = asyncio.create_task(self._run(), name="eventgraph-webhooks")

    async def stop(self) -> None:
        """Finish the current round and any database write, abandon requests in flight
        (their deliveries are sent again once the lease expires)."""
        self._stopping = True
        self._stopped.set()
        self._wakeup.set()
        if self._loop is not None:
            await self._loop
        for task in self._sending:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._client.aclose()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._stopping:
            began = loop.time()
            try:
                await self._tick()
            except DatabaseUnavailable:
                pass  # busy or unreachable: logged, at a bounded rate, where it was mapped
            except Exception:
                logger.exception("webhooks: dispatch round failed")
            if self._paced and not self._stopping:
                # Out of tokens while busy: the wake-ups of the pause are taken together.
                pause = max(began + ROUND_SECONDS - loop.time(), self._pacer.next_token_in())
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(pause):
                        await self._stopped.wait()
                self._wakeup.clear()
                continue
            try:
                async with asyncio.timeout(self._settings.webhook_poll_interval):
                    await self._wakeup.wait()
            except TimeoutError:
                self._expand = True  # other processes' publishes do not wake this one
            self._wakeup.clear()

    async def _tick(self) -> None:
        loop_time = asyncio.get_running_loop().time()
        if self._expand:
            self._expand = False
            await expand_outbox(self._db, window=self._settings.webhook_window)
            self._held = True
        now = datetime.now(UTC)
        stats = loop_time - self._stats_at >= STATS_EVERY_SECONDS

        async def look(conn: ReadConn) -> list[str]:
            if stats:
                metrics.set_queue_stats(await repo.queue_stats(conn), now=now)
            return await repo.due_webhook_ids(conn, now=now)

        allowance = self._pacer.allowance(loop_time)
        self._paced = allowance == 0
        if not self._paced or stats:
            # On every wake-up (each publish): no checkout ping, a retry instead.
            due = await self._db.run_read(look)
            if stats:
                self._stats_at = loop_time
            if not self._paced:
                await self._claim_and_send(self._rotated(due), now, allowance)
        if self._pruned_at is None or loop_time - self._pruned_at >= PRUNE_EVERY_SECONDS:
            self._pruned_at = loop_time
            await prune_log(db=self._db, settings=self._settings)
        if self._held and loop_time - self._released_at >= RELEASE_EVERY_SECONDS:
            # After the claims (not before a new delivery's first attempt), and not after
            # every finished delivery: a window frees a little at a time.
            self._released_at = loop_time
            window = self._settings.webhook_window
            self._held = await release_ranges(self._db, window=window)

    def _rotated(self, due: list[str]) -> list[str]:
        self._turn += 1
        start = self._turn % len(due) if due else 0
        return due[start:] + due[:start]

    async def _claim_and_send(self, due: list[str], now: datetime, allowance: int | None) -> None:
        """Claim and send; ``allowance``: how many may start (``None``: no limit)."""
        for webhook_id in due:
            if self._stopping or (allowance is not None and allowance <= 0):
                break
            await asyncio.sleep(0)  # requests being handled go first between claims
            if self._inflight[webhook_id] >= self._settings.webhook_concurrency:
                continue
            claim = partial(self._claim, webhook_id=webhook_id, now=now, limit=allowance)
            webhook, claimed, events = await self._db.run_write(claim)
            self._pacer.started(len(claimed))
            if allowance is not None:
                allowance -= len(claimed)
            for delivery in claimed:
                assert webhook is not None
                self._spawn(webhook, delivery, events.get(delivery["event_id"]))
        self._paced = allowance is not None and allowance <= 0  # more may be due: pause

    async def _claim(
        self, conn: WriteConn, *, webhook_id: str, now: datetime, limit: int | None
    ) -> Claimed:
        """Lease what the webhook has room for, at most ``limit`` (one transaction, run
        without a checkout ping, on every wake-up), with the events of the claimed ones."""
        # Locked: pauses, deletes and other processes' claims of this webhook wait.
        webhook = await repo.lock_enabled_webhook(conn, webhook_id)
        if webhook is None:
            return None, [], {}
        leased = await repo.live_leases(conn, webhook_id=webhook_id, now=now)
        free = self._settings.webhook_concurrency - leased
        if limit is not None:
            free = min(free, limit)
        if free <= 0:
            return webhook, [], {}
        claimed = await repo.claim(
            conn,
            webhook_id=webhook_id,
            owner=self.owner,
            now=now,
            lease_until=now + self._lease,
            limit=free,
        )
        events = await outbox_repo.events_by_id(conn, [c["event_id"] for c in claimed])
        return webhook, claimed, events

    def _spawn(
        self, webhook: dict[str, Any], delivery: dict[str, Any], event: dict[str, Any] | None
    ) -> None:
        self._inflight[webhook["id"]] += 1
        task = asyncio.create_task(self._deliver(webhook, delivery, event))
        self._tasks.add(task)

        def done(finished: asyncio.Task[None]) -> None:
            self._tasks.discard(finished)
            self._inflight[webhook["id"]] -= 1
            self._wakeup.set()  # a slot is free: look for more

        task.add_done_callback(done)

    async def _deliver(
        self, webhook: dict[str, Any], delivery: dict[str, Any], event: dict[str, Any] | None
    ) -> None:
        try:
            if event is None:
                started, outcome = datetime.now(UTC), DELETED_OUTCOME
            else:
                started, outcome = await self._attempt(webhook, delivery, event)
            await self._recorder.record(Finished(webhook["id"], delivery, started, outcome))
        except DatabaseUnavailable:
            pass  # logged where mapped; the lease expires and the delivery is tried again
        except Exception:  # the lease expires and the delivery is tried again
            logger.exception("webhooks: delivery %s of webhook %s", delivery["id"], webhook["id"])

    async def _attempt(
        self, webhook: dict[str, Any], delivery: dict[str, Any], event: dict[str, Any]
    ) -> tuple[datetime, sender.Outcome]:
        settings = self._settings
        started = datetime.now(UTC)
        body = payload(event, delivery["kind"], delivery["created_at"])
        keys = [webhook["secret"]]
        until = webhook["previous_secret_until"]
        if webhook["previous_secret"] and until is not None and until > started:
            keys.append(webhook["previous_secret"])
        headers = signed_headers(
            message_id=delivery["id"], timestamp=started, body=body, secrets_=keys
        )
        metrics.ATTEMPTED.inc()
        task = asyncio.current_task()
        assert task is not None
        self._sending.add(task)  # only this part may be cancelled on shutdown
        try:
            outcome = await sender.post(
                self._client,
                url=webhook["url"],
                body=body,
                headers=headers,
                time_limit=settings.webhook_timeout,
                allow_private=settings.webhook_allow_private,
            )
        finally:
            self._sending.discard(task)
        return started, outcome
