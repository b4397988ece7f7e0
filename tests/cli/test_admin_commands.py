"""``eventgraph workspace|channel|token create`` against a real database."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.auth.tokens import authenticate
from app.cli.main import cli
from app.settings import Settings
from db.database import Database


@pytest.fixture
def runner(database_url: str, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("EVENTGRAPH_DATABASE_URL", database_url)
    return CliRunner()


async def _principal(url: str, secret: str) -> tuple[str, frozenset[str], str | None]:
    db = Database(url)
    try:
        principal = await authenticate(db=db, settings=Settings(database_url=url), secret=secret)
    finally:
        await db.dispose()
    return principal.kind, principal.channel_ids, principal.publisher_id


def test_create_workspace_channel_and_token(
    runner: CliRunner, database_url: str, tmp_path: Path
) -> None:
    result = runner.invoke(cli, ["workspace", "create", "--name", "Acme Corp"])
    assert result.exit_code == 0, result.output
    assert result.stdout == "created workspace acme-corp (Acme Corp)\n"
    result = runner.invoke(cli, ["workspace", "create", "--name", "Beta", "--json"])
    assert json.loads(result.stdout)["id"] == "beta"

    schemas = tmp_path / "schemas.json"
    schemas.write_text(json.dumps({"order.placed": {"type": "object"}}))
    result = runner.invoke(
        cli,
        [
            "channel", "create", "--id", "orders", "--name", "Orders",
            "--workspace", "acme-corp", "--private", "--strict-types",
            "--schemas-file", str(schemas), "--json",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    channel = json.loads(result.stdout)
    assert channel["private"] is True
    assert channel["strictTypes"] is True
    assert channel["schemas"] == {"order.placed": {"type": "object"}}

    result = runner.invoke(
        cli,
        [
            "token", "create", "--name", "svc", "--kind", "publish", "--channel", "orders",
            "--publisher-id", "svc", "--expires-at", "2999-01-01T00:00:00Z", "--json",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    token = json.loads(result.stdout)
    assert token["channelIds"] == ["orders"]
    assert token["expiresAt"] == "2999-01-01T00:00:00.000Z"
    secret = token["secret"]
    assert secret.startswith("eg_")
    kind, channels, publisher = asyncio.run(_principal(database_url, secret))
    assert (kind, channels, publisher) == ("publish", frozenset({"orders"}), "svc")


def test_errors_exit_non_zero(runner: CliRunner) -> None:
    result = runner.invoke(
        cli, ["channel", "create", "--id", "c", "--name", "C", "--workspace", "missing"]
    )
    assert result.exit_code == 1
    assert "input.workspaceId" in result.stderr
    result = runner.invoke(cli, ["token", "create", "--name", "t", "--kind", "root"])
    assert result.exit_code == 1
    result = runner.invoke(
        cli, ["token", "create", "--name", "t", "--kind", "admin", "--expires-at", "soon"]
    )
    assert result.exit_code != 0


def test_human_output_by_default(runner: CliRunner) -> None:
    runner.invoke(cli, ["workspace", "create", "--id", "acme", "--name", "Acme"])
    result = runner.invoke(
        cli, ["channel", "create", "--id", "news", "--name", "News", "--workspace", "acme"]
    )
    assert result.stdout == "created public channel news (News) in workspace acme\n"
    result = runner.invoke(
        cli, ["token", "create", "--name", "reader", "--kind", "subscribe", "--channel", "news"]
    )
    first, second = result.stdout.splitlines()
    assert first.startswith("created subscribe token ")
    assert second.startswith("secret (shown only once): eg_")
