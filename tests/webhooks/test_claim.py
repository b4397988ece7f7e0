"""The outbox claim: leases exclude other dispatchers until they expire; outcomes are
written only by the lease holder."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson

from app.webhooks.expansion import expand_outbox
from db.database import Database
from db.repositories import webhook_outbox as outbox_repo
from db.repositories import webhook_ranges as ranges_repo
from db.repositories import webhooks as repo
from db.types import to_millis
from tests.webhooks.conftest import store_webhook


async def _queue(db: Database, count: int, now: datetime) -> None:
    async with db.transaction() as conn:
        await store_webhook(conn, "W" * 26, now)
        await outbox_repo.stage_deliveries(
            conn,
            ids=[f"msg_{i:026d}" for i in range(count)],
            webhook_ids=["W" * 26] * count,
            event_ids=[f"e{i}" for i in range(count)],
            event_seqs=list(range(count)),
            kind="event.published",
            now=now,
        )


async def test_a_lease_excludes_others_until_it_expires(database_url: str) -> None:
    db = Database(database_url)
    try:
        now = datetime.now(UTC)
        await _queue(db, 3, now)

        async def claim(owner: str, at: datetime, limit: int = 10) -> list[str]:
            async with db.transaction() as conn:
                rows = await repo.claim(
                    conn,
                    webhook_id="W" * 26,
                    owner=owner,
                    now=at,
                    lease_until=at + timedelta(seconds=10),
                    limit=limit,
                )
            return [r["id"] for r in rows]

        assert await claim("a", now, limit=2) == ["msg_" + "0" * 26, f"msg_{1:026d}"]
        assert await claim("b", now) == [f"msg_{2:026d}"]
        assert await claim("c", now + timedelta(seconds=5)) == []
        async with db.transaction() as conn:
            assert await repo.due_webhook_ids(conn, now=now) == []
        later = now + timedelta(seconds=11)  # a's and b's leases have expired
        assert len(await claim("c", later)) == 3

        def result(delivery_id: str) -> tuple[dict[str, object], dict[str, object]]:
            values = {
                "id": delivery_id,
                "status": "succeeded",
                "attempts": 1,
                "next_attempt_at": later,
                "finished_at": later,
            }
            attempt = {
                "id": delivery_id[-26:],
                "delivery_id": delivery_id,
                "attempted_at": later,
                "status_code": 200,
                "latency_ms": 1,
            }
            return values, attempt

        async with db.transaction() as conn:
            # "a" lost its lease to "c": only "c"'s outcome is written, in one batch.
            assert (
                await repo.finish_attempts(conn, owner="a", results=[result("msg_" + "0" * 26)])
                == set()
            )
            written = await repo.finish_attempts(
                conn, owner="c", results=[result(f"msg_{i:026d}") for i in range(2)]
            )
        assert written == {f"msg_{i:026d}" for i in range(2)}
        async with db.read() as conn:
            rows = await repo.list_deliveries(conn, webhook_id="W" * 26, statuses=None, limit=9)
            logged = await repo.attempts_of(conn, [r["id"] for r in rows])
        assert sorted(r["status"] for r in rows) == ["pending", "succeeded", "succeeded"]
        assert {k: [a["number"] for a in v] for k, v in logged.items() if v} == {
            f"msg_{i:026d}": [1] for i in range(2)
        }
    finally:
        await db.dispose()


async def test_live_leases_of_every_owner_count_until_they_expire(database_url: str) -> None:
    db = Database(database_url)
    try:
        now = datetime.now(UTC)
        await _queue(db, 5, now)
        for owner in ("a", "b"):
            async with db.transaction() as conn:
                assert await repo.lock_enabled_webhook(conn, "W" * 26) is not None
                await repo.claim(
                    conn,
                    webhook_id="W" * 26,
                    owner=owner,
                    now=now,
                    lease_until=now + timedelta(seconds=10),
                    limit=2,
                )
        async with db.read() as conn:
            assert await repo.live_leases(conn, webhook_id="W" * 26, now=now) == 4
            later = now + timedelta(seconds=11)
            assert await repo.live_leases(conn, webhook_id="W" * 26, now=later) == 0
        async with db.transaction() as conn:
            await repo.update_webhook(conn, "W" * 26, {"enabled": False})
            assert await repo.lock_enabled_webhook(conn, "W" * 26) is None
    finally:
        await db.dispose()


async def test_expansion_takes_the_webhook_row_as_it_is_now(database_url: str) -> None:
    """A stale webhook cache cannot queue for a deleted webhook; a paused one gets one
    skipped range for the outbox row, no delivery rows."""
    db = Database(database_url)
    try:
        now = datetime.now(UTC)
        await _queue(db, 1, now)
        entries = {"events": [["e8", 8], ["e9", 9]], "hooks": [["W" * 26, [1]], ["X" * 26, None]]}
        async with db.transaction() as conn:
            await repo.update_webhook(conn, "W" * 26, {"enabled": False})
            await outbox_repo.queue_outbox(
                conn, kind="event.published", created_at=now, entries=orjson.dumps(entries).decode()
            )
        assert await expand_outbox(db, window=1000) == 1
        async with db.read() as conn:
            rows = await repo.list_deliveries(conn, webhook_id="W" * 26, statuses=None, limit=9)
            assert {r["id"]: r["status"] for r in rows} == {"msg_" + "0" * 26: "pending"}
            for webhook_id in ("W" * 26, "X" * 26):  # paused, never existed
                skips = await ranges_repo.newest_ranges(
                    conn, webhook_id=webhook_id, statuses=["skipped"], limit=9
                )
                assert [orjson.loads(s["events"]) for s in skips] == (
                    [[["e9", 9]]] if webhook_id == "W" * 26 else []
                )
            assert (
                await repo.list_deliveries(conn, webhook_id="X" * 26, statuses=None, limit=9) == []
            )
    finally:
        await db.dispose()


async def test_queue_stats_count_each_webhooks_pending_deliveries(database_url: str) -> None:
    db = Database(database_url)
    try:
        now = to_millis(datetime.now(UTC))
        await _queue(db, 3, now)
        async with db.transaction() as conn:
            await repo.claim(
                conn,
                webhook_id="W" * 26,
                owner="a",
                now=now,
                lease_until=now + timedelta(seconds=10),
                limit=1,
            )
        async with db.read() as conn:
            stats = await repo.queue_stats(conn)
            due = await repo.due_webhook_ids(conn, now=now)
        # Leased (in flight) deliveries are still pending; the oldest is the queue time.
        assert stats == [{"webhook_id": "W" * 26, "depth": 3, "oldest": now}]
        assert due == ["W" * 26]
        async with db.transaction() as conn:
            await repo.skip_pending(conn, "W" * 26, now=now + timedelta(seconds=11))
        async with db.read() as conn:
            assert await repo.queue_stats(conn) == []
            assert await repo.due_webhook_ids(conn, now=now) == []
    finally:
        await db.dispose()
