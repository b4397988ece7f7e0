"""``eventgraph seed``: the benchmark distribution, positions, indexes kept, demo data."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from app.cli.main import cli
from db.database import Database
from tests.fixtures.app import Api

N = 3000


@pytest.fixture
def runner(database_url: str, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("EVENTGRAPH_DATABASE_URL", database_url)
    return CliRunner()


def _query(url: str, sql: str) -> list[Any]:
    async def run() -> list[Any]:
        db = Database(url, pool_size=1)
        try:
            async with db.read() as conn:
                return list((await conn.execute(text(sql))).all())
        finally:
            await db.dispose()

    return asyncio.run(run())


def _indexes(url: str, dialect: str) -> set[str]:
    """Each index of ``events``: its whole definition on PostgreSQL (storage parameters
    included), its name on SQLite."""
    if dialect == "postgresql":
        rows = _query(url, "SELECT indexdef FROM pg_indexes WHERE tablename = 'events'")
    else:
        rows = _query(url, "SELECT name FROM sqlite_master WHERE type = 'index'")
    return {str(r[0]) for r in rows}


def _seed(runner: CliRunner, *args: str) -> None:
    result = runner.invoke(cli, ["seed", *args])
    assert result.exit_code == 0, result.output


def test_benchmark_seed_reproduces_the_reference_distribution(
    runner: CliRunner, database_url: str, dialect: str
) -> None:
    indexes_before = _indexes(database_url, dialect)
    _seed(runner, "--events", str(N))

    rows = _query(
        database_url,
        "SELECT id, seq, type, channel_id, workspace_id, subject_id, user_id, parent_id,"
        " publisher_id, data, meta, created_at FROM events ORDER BY seq",
    )
    assert [r.seq for r in rows] == list(range(1, N + 1))
    assert _query(database_url, "SELECT last_seq FROM event_positions WHERE id = 1")[0][0] == N

    # ids, created_at and seq are in the same strictly increasing order, over the last year
    ids = [r.id for r in rows]
    assert ids == sorted(set(ids))
    assert all(len(i) == 26 for i in ids)
    created = [_as_datetime(r.created_at) for r in rows]
    assert all(a < b for a, b in itertools.pairwise(created))
    now = datetime.now(UTC)
    assert now - timedelta(days=366) < created[0] < now - timedelta(days=364)
    assert now - timedelta(days=2) < created[-1] <= now

    # Zipf types: agent.created ~28 %, twice payload.list; 20 types in all
    types = Counter(r.type for r in rows)
    assert 0.24 < types["agent.created"] / N < 0.32
    assert 1.6 < types["agent.created"] / types["payload.list"] < 2.4
    assert len(types) <= 20
    assert types.most_common(1)[0][0] == "agent.created"

    # channels: skewed choice, workspace follows the channel
    channels = {r.id: r for r in _query(database_url, "SELECT * FROM channels")}
    assert len(channels) == 200
    assert len(_query(database_url, "SELECT id FROM workspaces")) == 50
    assert sorted(c for c, ch in channels.items() if ch.private)[:2] == ["ch_007", "ch_014"]
    assert all(channels[r.channel_id].workspace_id == r.workspace_id for r in rows)
    per_channel = Counter(r.channel_id for r in rows)
    assert per_channel["ch_001"] > 3 * per_channel.get("ch_200", 0)

    # ~10 % have a parent, always an earlier event
    position = {r.id: r.seq for r in rows}
    with_parent = [r for r in rows if r.parent_id is not None]
    assert 0.07 < len(with_parent) / N < 0.13
    assert all(position[r.parent_id] < r.seq for r in with_parent)

    assert len({r.user_id for r in rows}) > 900
    assert len({r.publisher_id for r in rows}) == 25
    data = [_as_json(r.data) for r in rows]
    assert set(data[0]) == {"name", "status", "count", "score", "tags", "note", "flags"}
    average = sum(len(json.dumps(d, separators=(",", ":"))) for d in data) / N
    assert 170 < average < 240
    assert _as_json(rows[0].meta)["source"] == "seed"

    # the seed recreated every index it dropped, as it was
    assert _indexes(database_url, dialect) == indexes_before


def test_seed_refuses_existing_data_unless_replacing(runner: CliRunner, database_url: str) -> None:
    _seed(runner, "--events", "100")
    result = runner.invoke(cli, ["seed", "--events", "50"])
    assert result.exit_code == 1
    assert "--replace" in result.output
    _seed(runner, "--events", "50", "--replace")
    assert _query(database_url, "SELECT count(*), max(seq) FROM events")[0] == (50, 50)
    assert _query(database_url, "SELECT last_seq FROM event_positions")[0][0] == 50


def test_demo_seed_continues_commit_positions(runner: CliRunner, database_url: str) -> None:
    _seed(runner, "--events", "20")
    _seed(runner, "--demo")
    rows = _query(database_url, "SELECT seq, type, channel_id, parent_id FROM events ORDER BY seq")
    assert [r.seq for r in rows] == list(range(1, 29))
    assert _query(database_url, "SELECT last_seq FROM event_positions")[0][0] == 28
    demo = rows[20:]
    assert {r.channel_id for r in demo} == {"general", "deploys", "ops-private"}
    ids = {r.type: r for r in demo}
    assert ids["deploy.finished"].parent_id is not None

    again = runner.invoke(cli, ["seed", "--demo"])
    assert again.exit_code == 1
    assert "already exists" in again.output


async def test_seeded_events_are_served_by_graphql(database_url: str, api: Api) -> None:
    result = await asyncio.to_thread(
        CliRunner().invoke,
        cli,
        ["seed", "--events", "500"],
        env={"EVENTGRAPH_DATABASE_URL": database_url},
    )
    assert result.exit_code == 0, result.output
    data = await api.ok(
        "{ events(first: 50) { totalCount nodes { id type data parent { id } channel { name } }"
        " pageInfo { hasNextPage } } }"
    )
    connection = data["events"]
    assert connection["totalCount"] == 500
    assert len(connection["nodes"]) == 50
    assert connection["pageInfo"]["hasNextPage"] is True
    assert connection["nodes"][0]["data"]["name"] == "item-500"


def _as_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value) + "+00:00")


def _as_json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value
