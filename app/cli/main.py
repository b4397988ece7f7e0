"""The ``eventgraph`` command: serve, migrate, schema, and the admin sub-commands.

Command modules import only typer at module level (services, database and server modules
are imported when a command runs), so ``eventgraph --help`` answers quickly.
"""

from __future__ import annotations

import typer

from app.cli.admin import channel_app, token_app, workspace_app
from app.cli.archive import export_command, import_command, purge_command
from app.cli.seed import seed_command
from app.cli.serve import migrate_command, schema_command, serve_command

cli = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,  # plain help: rich formatting alone costs more than the rest
    help="Eventgraph event store",
)
cli.command("serve")(serve_command)
cli.command("migrate")(migrate_command)
cli.command("schema")(schema_command)
cli.add_typer(token_app, name="token")
cli.add_typer(workspace_app, name="workspace")
cli.add_typer(channel_app, name="channel")
cli.command("export")(export_command)
cli.command("import")(import_command)
cli.command("purge")(purge_command)
cli.command("seed")(seed_command)


def main() -> None:
    cli()
