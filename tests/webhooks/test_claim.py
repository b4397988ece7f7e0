"""The outbox claim: leases exclude other dispatchers until they expire; outcomes are
written only by the lease holder."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from db.database import Database
from db.repositories import webhooks as repo


async def _queue(db: Database, count: int, now: datetime) -> None:
    async with db.transaction() as conn:
        await repo.insert_webhook(
            conn,
            {
                "id": "W" * 26,
                "url": "http://127.0.0.1:9/",
                "enabled": True,
                "secret": "whsec_x",
                "scope": {"admin": True},
                "created_at": now,
                "updated_at": now,
            },
        )
        await repo.stage_deliveries(
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
        async with db.transaction() as conn:
            stale = await repo.finish_attempt(
                conn,
                delivery_id="msg_" + "0" * 26,
                owner="a",
                attempt={},
                values={"status": "succeeded"},
            )
        assert stale is False  # "a" lost its lease: its outcome is not written
    finally:
        await db.dispose()
