"""``eventgraph serve`` (migrates first), ``migrate`` and ``schema``.

The heavy modules are imported inside the commands so that ``--help`` starts quickly.
"""

from __future__ import annotations

import os
from pathlib import Path

import typer


def migrate_command() -> None:
    """Apply database migrations up to the newest revision."""
    from app.settings import Settings
    from db.migrate import upgrade

    settings = Settings()
    upgrade(settings.database_url)
    typer.echo("database is up to date")


def serve_command(
    host: str | None = typer.Option(None, help="bind address (EVENTGRAPH_HOST)"),
    port: int | None = typer.Option(None, help="port (EVENTGRAPH_PORT)"),
    workers: int = typer.Option(1, min=1, help="worker processes"),
) -> None:
    """Migrate the database, then serve HTTP, GraphQL and WebSocket."""
    import uvicorn

    from app.http_server import PROTOCOL
    from app.observability.logging import logging_config
    from app.settings import Settings
    from db.migrate import upgrade

    if host is not None:
        os.environ["EVENTGRAPH_HOST"] = host
    if port is not None:
        os.environ["EVENTGRAPH_PORT"] = str(port)
    settings = Settings()
    if workers > 1 and not settings.is_postgres:
        # One SQLite file, one process: the memory bus does not cross processes, so replays
        # would reach one worker only (published events would, through the tail's timer).
        raise typer.BadParameter(
            "--workers needs PostgreSQL (EVENTGRAPH_DATABASE_URL=postgresql+asyncpg://...):"
            " on SQLite, realtime replays would reach one worker only",
            param_hint="--workers",
        )
    upgrade(settings.database_url)
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=workers,
        log_level=settings.log_level.lower(),
        log_config=logging_config(settings.log_level),
        # uvicorn's httptools parser has no header limits or timeouts of its own.
        http=PROTOCOL,  # reads header_timeout, body_timeout, max_header_bytes
        timeout_keep_alive=settings.keep_alive_timeout,
        access_log=False,
        # WebSocket pings: a client that vanished without a close frame is dropped (and its
        # subscriptions torn down) within two intervals.
        ws_ping_interval=settings.ws_ping_seconds,
        ws_ping_timeout=settings.ws_ping_seconds,
        # No per-message deflate: uvicorn offers it by default, and compressing every
        # subscription message for every subscriber costs CPU on the delivery path.
        ws_per_message_deflate=False,
        # With --workers, uvicorn restarts a worker that does not answer its health check in
        # time; the default 5 s is shorter than importing the app on a busy machine, and the
        # workers were then killed and restarted forever.
        timeout_worker_healthcheck=120,
    )


def schema_command(
    output: Path | None = typer.Option(None, help="write the SDL here instead of stdout"),
) -> None:
    """Print the GraphQL schema (SDL) exported from the Strawberry schema."""
    from graphql_schema.schema import schema

    sdl = schema.as_str() + "\n"
    if output is None:
        typer.echo(sdl, nl=False)
    else:
        output.write_text(sdl)
