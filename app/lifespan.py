"""Start and stop what a process owns: the database engines, the realtime hub and bus."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from fastapi import FastAPI

from app.events.delivery import Delivery
from app.events.idempotency import start_prune_task
from app.events.publish import rehearsal
from app.events.retention import start_retention_task
from app.realtime.bus import create_bus
from app.realtime.hub import Hub
from app.realtime.target import RealtimeTarget
from app.settings import Settings
from app.state import AppState
from app.tasks import bounded, cancel_and_wait
from app.webhooks.dispatcher import Dispatcher
from app.webhooks.outbox import FilterParser, WebhookOutbox
from db.database import Database


def _tune_gc() -> None:
    """Keep the cyclic GC off the request path.

    Everything alive after start-up (modules, the schema, plans) is moved out of the
    collector's reach, and full collections become rarer: with the defaults, generation-2
    passes over those objects were the p99 of a query (Q1 p99 38 ms → 16-20 ms, Q4 81 → 32
    ms in the benchmark). Request garbage is freed by reference counting: the one cycle
    every operation had, graphql-core's executor and its ``async_helpers``, is broken in
    ``graphql_schema/subscription/frames.py`` (with it, publish request bodies piled up
    for these rare collections).
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 50, 50)


def build_lifespan(
    settings: Settings, *, parse_filter: FilterParser
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """``parse_filter`` turns a stored webhook filter (EventFilter JSON) into the query AST;
    the composition root passes the GraphQL layer's own coercion."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = Database(
            settings.database_url,
            pool_size=settings.db_pool_size,
            busy_timeout_ms=settings.sqlite_busy_timeout_ms,
            statement_timeout_ms=settings.statement_timeout_ms,
        )
        hub = Hub(db=db, bus=create_bus(settings, db), settings=settings)
        dispatcher = Dispatcher(db=db, settings=settings)
        webhooks = WebhookOutbox(parse_filter=parse_filter, wake=dispatcher.wake)
        realtime = RealtimeTarget(hub)
        delivery = Delivery(targets=(realtime, webhooks), wakes=(realtime,))
        state = AppState(settings=settings, db=db, delivery=delivery, hub=hub)
        app.state.eventgraph = state
        await hub.start()
        retention = start_retention_task(state)  # None unless RETENTION_DAYS is set
        prune = start_prune_task(db)
        dispatcher.start()
        warming = asyncio.create_task(
            db.warm(settings.db_warm_connections, rehearse=rehearsal(delivery)), name="db-warm"
        )
        _tune_gc()
        try:
            yield
        finally:
            # Each step is bounded (a stuck one is named in a warning with the tasks'
            # stacks, app/tasks.py) and the next still runs.
            await bounded("the webhook dispatcher's round", dispatcher.stop(), 10)
            await bounded(
                "the retention, prune and warm-up tasks",
                cancel_and_wait(retention, prune, warming),
                5,
            )
            # Its bus closes its connections within 5 s each (app/realtime/redis_bus.py).
            await bounded("the realtime hub and bus", hub.stop(), 20)
            await bounded("closing the database connections", db.dispose(), 10)

    return lifespan
