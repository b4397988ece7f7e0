"""``eventgraph export`` / ``import`` / ``purge`` against real databases."""

from __future__ import annotations

import asyncio
import gzip
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from app.auth.principal import ADMIN, Principal
from app.channels.service import create_channel
from app.cli.main import cli
from app.events.delivery import Delivery
from app.events.publish import EventDraft, publish_events
from app.settings import Settings
from app.workspaces.service import create_workspace
from db.database import Database

runner = CliRunner()
PUBLISHER = Principal(
    kind="publish",
    channel_ids=frozenset({"market"}),
    publisher_id="agent-001",
    publisher_name="Market Agent",
)


async def _seed(url: str) -> list[str]:
    db = Database(url)
    settings = Settings(database_url=url)
    try:
        await create_workspace(db=db, principal=ADMIN, id="acme", name="Acme")
        await create_channel(
            db=db, principal=ADMIN, id="market", name="Market", workspace_id="acme"
        )
        await create_channel(
            db=db, principal=ADMIN, id="secret", name="Secret", workspace_id="acme", private=True
        )
        first = await publish_events(
            db=db,
            settings=settings,
            principal=PUBLISHER,
            channel_id="market",
            delivery=Delivery(),
            drafts=[
                EventDraft(type="price.update", data={"symbol": "BTC", "price": 67500.0}),
                EventDraft(type="price.update", data=[1, "two", None], meta='{"c": "x"}'),
            ],
        )
        second = await publish_events(
            db=db,
            settings=settings,
            principal=ADMIN,
            channel_id="secret",
            delivery=Delivery(),
            drafts=[
                EventDraft(
                    type="note",
                    data={"nested": {"é": "ünïcode", "n": 1.5}},
                    meta={"k": [1, 2]},
                    subject_id="subj",
                    user_id="u1",
                    parent_id=first[0]["id"],
                ),
                EventDraft(data="plain string"),
            ],
        )
        return [row["id"] for row in [*first, *second]]
    finally:
        await db.dispose()


async def _seqs(url: str) -> list[tuple[str, int]]:
    from sqlalchemy import select

    from db.tables import events_table

    db = Database(url)
    try:
        async with db.read() as conn:
            result = await conn.execute(
                select(events_table.c.id, events_table.c.seq).order_by(events_table.c.seq)
            )
            return [(row[0], row[1]) for row in result]
    finally:
        await db.dispose()


def _invoke(url: str, *args: str) -> Any:
    result = runner.invoke(cli, list(args), env={"EVENTGRAPH_DATABASE_URL": url})
    assert result.exit_code == 0, (result.output, result.exception)
    return result


def test_round_trip_is_byte_identical(database_url: str, second_url: str, tmp_path: Path) -> None:
    ids = asyncio.run(_seed(database_url))
    first, again = tmp_path / "a.ndjson", tmp_path / "b.ndjson"
    _invoke(database_url, "export", "--output", str(first))
    lines = first.read_bytes().splitlines()
    assert len(lines) == 4
    exported = [orjson.loads(line) for line in lines]
    assert [e["id"] for e in exported] == sorted(ids)
    child = next(e for e in exported if e["type"] == "note")
    assert child["parentId"] == ids[0]
    assert child["meta"] == {"k": [1, 2]}
    assert child["subjectId"] == "subj"
    assert child["userId"] == "u1"
    btc = next(e for e in exported if e["id"] == ids[0])
    assert btc["publisherId"] == "agent-001"
    assert btc["publisherName"] == "Market Agent"
    assert btc["createdAt"].endswith("Z")

    result = _invoke(second_url, "import", str(first))
    assert "imported 4 events" in result.output
    assert "created 1 workspaces, 2 channels" in result.output
    _invoke(second_url, "export", "--output", str(again))
    assert again.read_bytes() == first.read_bytes()

    # Positions were assigned in file order (ascending id).
    assert [event_id for event_id, _ in asyncio.run(_seqs(second_url))] == sorted(ids)

    # Idempotent: re-importing skips every id.
    result = _invoke(second_url, "import", str(first))
    assert "imported 0 events, skipped 4" in result.output
    assert len(asyncio.run(_seqs(second_url))) == 4


def test_export_filters_incremental_and_gzip(database_url: str, tmp_path: Path) -> None:
    ids = sorted(asyncio.run(_seed(database_url)))
    out = tmp_path / "x.ndjson.gz"
    _invoke(database_url, "export", "-o", str(out), "--type", "price.update")
    lines = gzip.decompress(out.read_bytes()).splitlines()
    assert {orjson.loads(line)["type"] for line in lines} == {"price.update"}
    assert len(lines) == 2

    stdout = _invoke(database_url, "export", "--after", ids[1]).stdout
    assert [orjson.loads(line)["id"] for line in stdout.splitlines()] == ids[2:]

    only_secret = _invoke(database_url, "export", "--channel", "secret").stdout
    assert {orjson.loads(line)["channelId"] for line in only_secret.splitlines()} == {"secret"}


def test_import_rejects_a_bad_line_without_a_traceback(database_url: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.ndjson"
    bad.write_text('{"id": "x"}\n')
    result = runner.invoke(cli, ["import", str(bad)], env={"EVENTGRAPH_DATABASE_URL": database_url})
    assert result.exit_code == 1
    assert result.stderr == "error: line 1: channelId must be a non-empty string\n"


def test_purge_deletes_only_older_events(database_url: str) -> None:
    asyncio.run(_seed(database_url))
    past = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    assert "deleted 0 events" in _invoke(database_url, "purge", "--before", past).output
    future = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()
    result = _invoke(database_url, "purge", "--before", future, "--batch-size", "3")
    assert "deleted 4 events" in result.output
    assert asyncio.run(_seqs(database_url)) == []


def test_import_reads_gzip_on_standard_input(
    database_url: str, second_url: str, tmp_path: Path
) -> None:
    asyncio.run(_seed(database_url))
    archive = tmp_path / "a.ndjson"
    _invoke(database_url, "export", "--output", str(archive))
    result = runner.invoke(
        cli,
        ["import", "-", "--json"],
        input=gzip.compress(archive.read_bytes()),
        env={"EVENTGRAPH_DATABASE_URL": second_url},
    )
    assert result.exit_code == 0, result.output
    assert orjson.loads(result.stdout) == {
        "imported": 4,
        "skipped": 0,
        "workspacesCreated": 1,
        "channelsCreated": 2,
    }
    plain = runner.invoke(
        cli,
        ["import", "-"],
        input=archive.read_bytes(),
        env={"EVENTGRAPH_DATABASE_URL": second_url},
    )
    assert "imported 0 events, skipped 4" in plain.stdout


async def _channels(url: str) -> dict[str, tuple[Any, ...]]:
    from sqlalchemy import select

    from db.tables import channels_table, workspaces_table

    db = Database(url)
    try:
        async with db.read() as conn:
            c, w = channels_table.c, workspaces_table.c
            result = await conn.execute(
                select(
                    c.id, c.name, c.private, c.strict_types, c.schemas, c.created_at, w.name
                ).join(workspaces_table, w.id == c.workspace_id)
            )
            return {row[0]: tuple(row[1:]) for row in result}
    finally:
        await db.dispose()


def test_export_with_metadata_restores_workspaces_and_channels(
    database_url: str, second_url: str, tmp_path: Path
) -> None:
    asyncio.run(_seed(database_url))
    archive = tmp_path / "a.ndjson.gz"
    _invoke(database_url, "export", "--with-metadata", "-o", str(archive))
    manifest = orjson.loads(gzip.decompress(archive.read_bytes()).splitlines()[0])
    assert manifest["eventgraphManifest"] == 1
    assert [ch["id"] for ch in manifest["channels"]] == ["market", "secret"]
    assert manifest["workspaces"][0] == {
        "id": "acme",
        "name": "Acme",
        "createdAt": manifest["workspaces"][0]["createdAt"],
    }
    result = _invoke(second_url, "import", str(archive))
    assert "imported 4 events" in result.stdout
    assert "created 1 workspaces, 2 channels" in result.stdout
    restored = asyncio.run(_channels(second_url))
    assert restored == asyncio.run(_channels(database_url))
    assert restored["market"][:2] == ("Market", False)  # public, as it was
    assert restored["secret"][-1] == "Acme"

    only = tmp_path / "secret.ndjson"
    _invoke(database_url, "export", "--with-metadata", "--channel", "secret", "-o", str(only))
    manifest = orjson.loads(only.read_bytes().splitlines()[0])
    assert [ch["id"] for ch in manifest["channels"]] == ["secret"]
    assert [ws["id"] for ws in manifest["workspaces"]] == ["acme"]


def test_import_rejects_a_bad_manifest(database_url: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.ndjson"
    bad.write_text('{"eventgraphManifest": 1, "channels": [{"id": "x"}]}\n')
    result = runner.invoke(cli, ["import", str(bad)], env={"EVENTGRAPH_DATABASE_URL": database_url})
    assert result.exit_code == 1
    assert result.stderr.startswith("error: line 1.channels[0]: name is missing or mistyped")


def test_purge_dry_run_counts_and_deletes_nothing(database_url: str) -> None:
    asyncio.run(_seed(database_url))
    future = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()
    result = _invoke(database_url, "purge", "--before", future, "--dry-run", "--json")
    assert orjson.loads(result.stdout)["wouldDelete"] == 4
    assert len(asyncio.run(_seqs(database_url))) == 4


def _purge_on_a_terminal(url: str, answer: bytes, *extra: str) -> tuple[int, str]:
    """Run ``eventgraph purge`` with a pseudo-terminal as standard input."""
    import os
    import pty
    import subprocess
    import sys

    future = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()
    primary, secondary = pty.openpty()
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "eventgraph"), "purge", "--before", future, *extra],
        stdin=secondary,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "EVENTGRAPH_DATABASE_URL": url},
    )
    os.close(secondary)
    os.write(primary, answer)
    output, _ = process.communicate(timeout=300)  # two migrations + runs on a loaded machine
    os.close(primary)
    return process.returncode, output.decode()


@pytest.mark.timeout(700)
def test_purge_asks_on_a_terminal(database_url: str) -> None:
    asyncio.run(_seed(database_url))
    code, output = _purge_on_a_terminal(database_url, b"n\n")
    assert code == 1
    assert "delete 4 events created before" in output
    assert len(asyncio.run(_seqs(database_url))) == 4
    code, output = _purge_on_a_terminal(database_url, b"y\n")
    assert code == 0, output
    assert "deleted 4 events" in output
    assert asyncio.run(_seqs(database_url)) == []


@pytest.mark.timeout(400)
def test_purge_yes_skips_the_question(database_url: str) -> None:
    asyncio.run(_seed(database_url))
    code, output = _purge_on_a_terminal(database_url, b"", "--yes")
    assert code == 0, output
    assert "deleted 4 events" in output


_GOOD_LINE = (
    '{"id": "01JGOODLINE000000000000000", "channelId": "c", "workspaceId": "w",'
    ' "createdAt": "2025-01-01T00:00:00.000Z", "data": 1}'
)


def _line(**fields: str) -> str:
    base = {
        "id": '"01JBADLINE0000000000000000"',
        "channelId": '"c"',
        "workspaceId": '"w"',
        "createdAt": '"2025-01-01T00:00:00.000Z"',
        "data": "1",
    }
    base.update(fields)
    return "{" + ", ".join(f'"{k}": {v}' for k, v in base.items()) + "}"


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        (_line(data='{"n": NaN}'), "NaN, Infinity and -Infinity are not JSON"),
        (_line(meta="[Infinity]"), "NaN, Infinity and -Infinity are not JSON"),
        (_line(data="[" * 300 + "]" * 300), "at most 64 levels"),
        (_line(data='{"a": ' * 40 + "1" + "}" * 40), "at most 32 levels"),
        (_line(data="180000000000000000000"), "does not fit in 64 bits"),
        (_line(data="[9223372036854775808]"), "64 bits"),
        (_line(subjectId='"' + "s" * 201 + '"'), "line 2.subjectId must be at most 200"),
        (_line(createdAt=f'"{"0001-01-01T00:00:00+14:00"}"'), "outside the years 1-9999"),
        (_line(data='"a\\u0000"'), "NUL"),
        (_line(data='{"a": 1, "b": {"c": 2, "c": 3}}'), "line 2.data.b.c: the key 'c' appears"),
        (_line(channelId='"c", "channelId": "other"'), "line 2.channelId: the key"),
    ],
)
def test_import_refuses_what_publishing_refuses(
    database_url: str, tmp_path: Path, line: str, needle: str
) -> None:
    archive = tmp_path / "bad.ndjson"
    archive.write_text(f"{_GOOD_LINE}\n{line}\n")
    result = runner.invoke(
        cli, ["import", str(archive)], env={"EVENTGRAPH_DATABASE_URL": database_url}
    )
    assert result.exit_code == 1, result.output
    assert "line 2" in result.output
    assert needle in result.output.replace("\n", "")
    assert asyncio.run(_seqs(database_url)) == []  # the good first line was not stored either
