"""All tables; importing this module registers them on ``SQLModel.metadata``."""

from sqlmodel import SQLModel

from db.tables.channels import Channel
from db.tables.events import Event, EventPosition
from db.tables.tokens import Token
from db.tables.workspaces import Workspace

metadata = SQLModel.metadata


# Core tables, for queries built with select() (rows come back as plain mappings).
events_table = Event.__table__  # type: ignore[attr-defined]
channels_table = Channel.__table__  # type: ignore[attr-defined]
workspaces_table = Workspace.__table__  # type: ignore[attr-defined]
tokens_table = Token.__table__  # type: ignore[attr-defined]
positions_table = EventPosition.__table__  # type: ignore[attr-defined]

__all__ = [
    "Channel",
    "Event",
    "EventPosition",
    "Token",
    "Workspace",
    "channels_table",
    "events_table",
    "metadata",
    "positions_table",
    "tokens_table",
    "workspaces_table",
]
