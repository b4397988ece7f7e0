"""``eventgraph token|workspace|channel create``: the admin services, run as the admin."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from app.cli.common import JSON_OPTION, emit, parse_time, run_with_database
from app.tokens.kinds import TOKEN_KINDS

token_app = typer.Typer(no_args_is_help=True, help="API tokens")
workspace_app = typer.Typer(no_args_is_help=True, help="Workspaces")
channel_app = typer.Typer(no_args_is_help=True, help="Channels")


@token_app.command("create")
def token_create(
    name: str = typer.Option(..., help="a label for the token"),
    kind: str = typer.Option(..., help=f"one of {', '.join(TOKEN_KINDS)}"),
    channel: list[str] = typer.Option([], "--channel", help="channel in scope (repeatable)"),
    workspace: list[str] = typer.Option([], "--workspace", help="workspace in scope (repeatable)"),
    publisher_id: str | None = typer.Option(None, help="publisherId stamped on its events"),
    publisher_name: str | None = typer.Option(None, help="publisherName stamped on its events"),
    expires_at: str | None = typer.Option(None, help="ISO 8601 expiry (default: never)"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Create a token and print its secret (shown this once only)."""
    from app.auth.principal import ADMIN
    from app.records import TOKEN_FIELDS, camel_record
    from app.tokens.service import create_token

    expiry = None if expires_at is None else parse_time(expires_at, option="--expires-at")
    row, secret = run_with_database(
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
    emit(
        {**camel_record(row, TOKEN_FIELDS), "secret": secret},
        f"created {row['kind']} token {row['id']} ({row['name']})\n"
        f"secret (shown only once): {secret}",
        as_json=as_json,
    )


@workspace_app.command("create")
def workspace_create(
    name: str = typer.Option(..., help="display name"),
    id: str | None = typer.Option(None, "--id", help="slug id (default: derived from the name)"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Create a workspace."""
    from app.auth.principal import ADMIN
    from app.records import WORKSPACE_FIELDS, camel_record
    from app.workspaces.service import create_workspace

    row = run_with_database(lambda db: create_workspace(db=db, principal=ADMIN, id=id, name=name))
    emit(
        camel_record(row, WORKSPACE_FIELDS),
        f"created workspace {row['id']} ({row['name']})",
        as_json=as_json,
    )


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
    as_json: bool = JSON_OPTION,
) -> None:
    """Create a channel."""
    from app.auth.principal import ADMIN
    from app.channels.service import create_channel
    from app.errors import BadInput
    from app.json_input import loads
    from app.records import CHANNEL_FIELDS, camel_record

    schemas: dict[str, Any] = {}
    if schemas_file is not None:
        try:
            schemas = loads(schemas_file.read_bytes(), path="--schemas-file")
        except BadInput as exc:
            raise typer.BadParameter(exc.message, param_hint="--schemas-file") from None
    row = run_with_database(
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
    access = "private" if row["private"] else "public"
    typed = ", strict types" if row["strict_types"] else ""
    emit(
        camel_record(row, CHANNEL_FIELDS),
        f"created {access} channel {row['id']} ({row['name']}) in workspace"
        f" {row['workspace_id']}{typed}",
        as_json=as_json,
    )
