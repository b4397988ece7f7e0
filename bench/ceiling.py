"""The asyncpg ceiling: the same SQL as a query, no HTTP, no GraphQL, 16 concurrent tasks.

By default the statements are the ones the engine really sends for each GraphQL body:
the app runs in-process and every statement that reaches the driver is captured
(SQLAlchemy's ``before_cursor_execute``, with its bound parameters) on two runs of the
body, keeping those of both (a background read of the realtime tail is in one at most).
They are then replayed with plain asyncpg, one "query" being all of its statements in
order (Q5 = page + count; Q6's parents and channels are joined into its page).
``--ceiling-sql hand`` uses the hand-written SQL of ``bench/queries.py`` instead.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import asyncpg

Statements = list[tuple[str, list[Any]]]


async def capture_engine_sql(
    database_url: str, token: str, bodies: dict[str, dict[str, Any]]
) -> dict[str, Statements]:
    """Run each body through the in-process app and return the SQL it sent, per query."""
    import httpx
    from asgi_lifespan import LifespanManager
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    from app.main import create_app
    from app.settings import Settings

    captured: Statements = []

    def listener(
        _conn: Any, _cursor: Any, statement: str, parameters: Any, _ctx: Any, _many: bool
    ) -> None:
        if "events" in statement or "channels" in statement:
            captured.append((statement, list(parameters or ())))

    # The realtime tail reads new events in the background (it showed up as Q1's second
    # statement): at its longest interval it runs at most once while the bodies are sent.
    # No warm-up: its rehearsed publish would be captured as part of a query.
    settings = Settings(
        database_url=database_url,
        admin_token=token,
        log_level="WARNING",
        stream_poll_seconds=60,
        db_warm_connections=0,
    )
    app = create_app(settings)
    event.listen(Engine, "before_cursor_execute", listener)
    result: dict[str, Statements] = {}
    try:
        async with LifespanManager(app) as manager:
            transport = httpx.ASGITransport(app=manager.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                for name, body in bodies.items():
                    await client.post(  # warm: connection set-up statements are not captured
                        "/graphql", json=body, headers={"Authorization": f"Bearer {token}"}
                    )
                    runs: list[Statements] = []
                    for _ in range(2):
                        captured.clear()
                        response = await client.post(
                            "/graphql", json=body, headers={"Authorization": f"Bearer {token}"}
                        )
                        response.raise_for_status()
                        if response.json().get("errors"):
                            raise RuntimeError(f"{name}: {response.json()['errors']}")
                        runs.append(list(captured))
                    # A statement of the background tail lands in at most one of the runs.
                    first = {sql for sql, _ in runs[0]}
                    result[name] = [(sql, params) for sql, params in runs[1] if sql in first]
    finally:
        event.remove(Engine, "before_cursor_execute", listener)
    return result


async def measure(
    dsn: str, statements: Statements, *, seconds: float, concurrency: int = 16
) -> float:
    """Queries per second: every task runs all ``statements`` in a loop for ``seconds``."""
    pool = await asyncpg.create_pool(dsn, min_size=concurrency, max_size=concurrency)
    done = 0

    async def worker(deadline: float) -> None:
        nonlocal done
        async with pool.acquire() as conn:
            while time.monotonic() < deadline:
                for sql, params in statements:
                    await conn.fetch(sql, *params)
                done += 1

    try:
        warm_until = time.monotonic() + min(1.0, seconds / 2)
        await asyncio.gather(*(worker(warm_until) for _ in range(concurrency)))
        done = 0
        started = time.monotonic()
        await asyncio.gather(*(worker(started + seconds) for _ in range(concurrency)))
        return done / (time.monotonic() - started)
    finally:
        await pool.close()
