"""``eventgraph token|workspace|channel create``: the admin services, run as the admin."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import typer

from app.auth.principal import ADMIN
from app.channels.service import create_channel
from app.errors import EventgraphError
from app.settings import Settings
from app.tokens.service import TOKEN_KINDS, create_token
from app.workspaces.service import create_workspace
from db.database import Database
from db.migrate import upgrade
from db.types import format_datetime, parse_instant

T = TypeVar("T")

token_app = typer.Typer(no_args_is_help=True, help="API tokens")
workspace_app = typer.Typer(no_args_is_help=True, help="Workspaces")
channel_app = typer.Typer(no_args_is_help=True, help="Channels")


def _run(use_case: Callable[[Database], Awaitable[T]]) -> T:
    """Migrate, then run ``use_case`` against the configured database; errors exit 1."""
    settings = Settings()
    upgrade(settings.database_url)

    async def main() -> T:
        db = Database(settings.database_url, pool_size=1)
        try:
            return await use_case(db)
        finally:
            await db.dispose()

    try:
        return asyncio.run(main())
    except EventgraphError as exc:
        where = f" ({exc.path})" if exc.path else ""
        typer.echo(f"error: {exc.message}{where}", err=True)
        raise typer.Exit(1) from None


def _parse_expiry(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_instant(value)
    except ValueError:
        raise typer.BadParameter("use ISO 8601, e.g. 2030-01-01T00:00:00Z") from None


@token_app.command("create")
def token_create(
    name: str = typer.Option(..., help="a label for the token"),
    kind: str = typer.Option(..., help=f"one of {', '.join(TOKEN_KINDS)}"),
    channel: list[str] = typer.Option([], "--channel", help="channel in scope (repeatable)"),
    workspace: list[str] = typer.Option([], "--workspace", help="workspace in scope (repeatable)"),
    publisher_id: str | None = typer.Option(None, help="publisherId stamped on its events"),
    publisher_name: str | None = typer.Option(None, help="publisherName stamped on its events"),
    expires_at: str | None = typer.Option(None, help="ISO 8601 expiry (default: never)"),
) -> None:
    """Create a token and print its secret (shown this once only)."""
    expiry = _parse_expiry(expires_at)
    row, secret = _run(
        lambda db: create_token(
            db=db,
            principal=ADMIN,
            name=name,
            kind=kind,
            channel_ids=channel,
            workspace_ids=workspace,
            publisher_id=publisher_id,
            publisher_name=publisher_name,
            expires_at=expiry,
        )
    )
    typer.echo(f"token {row['id']} ({row['kind']}) created; its secret, shown only once:", err=True)
    typer.echo(secret)


@workspace_app.command("create")
def workspace_create(
    name: str = typer.Option(..., help="display name"),
    id: str | None = typer.Option(None, "--id", help="slug id (default: derived from the name)"),
) -> None:
    """Create a workspace and print its id."""
    row = _run(lambda db: create_workspace(db=db, principal=ADMIN, id=id, name=name))
    typer.echo(row["id"])


@channel_app.command("create")
def channel_create(
    id: str = typer.Option(..., "--id", help="slug id"),
    name: str = typer.Option(..., help="display name"),
    workspace: str = typer.Option(..., help="workspace id"),
    private: bool = typer.Option(False, "--private", help="readable only by scoped tokens"),
    strict_types: bool = typer.Option(
        False, "--strict-types", help="only listed types, validated against their schema"
    ),
    schemas_file: Path | None = typer.Option(
        None, exists=True, dir_okay=False, help="JSON file mapping event type -> JSON Schema"
    ),
) -> None:
    """Create a channel and print it as JSON."""
    schemas: dict[str, Any] = {}
    if schemas_file is not None:
        try:
            schemas = json.loads(schemas_file.read_text())
        except ValueError as exc:
            raise typer.BadParameter(f"not JSON: {exc}", param_hint="--schemas-file") from None
    row = _run(
        lambda db: create_channel(
            db=db,
            principal=ADMIN,
            id=id,
            name=name,
            workspace_id=workspace,
            private=private,
            strict_types=strict_types,
            schemas=schemas,
        )
    )
    typer.echo(
        json.dumps(
            {
                "id": row["id"],
                "name": row["name"],
                "workspaceId": row["workspace_id"],
                "private": row["private"],
                "strictTypes": row["strict_types"],
                "schemas": row["schemas"],
                "createdAt": format_datetime(row["created_at"]),
            }
        )
    )
