"""All tables; importing this module registers them on ``SQLModel.metadata``."""

from sqlalchemy import Table, TableClause, column, table
from sqlmodel import SQLModel

from db.tables.channels import Channel
from db.tables.deployment import Deployment
from db.tables.events import Event, EventCount, EventPosition
from db.tables.idempotency import IdempotencyKey
from db.tables.tokens import Token
from db.tables.webhooks import (
    Webhook,
    WebhookAttempt,
    WebhookDelivery,
    WebhookOutboxEntry,
    WebhookRange,
)
from db.tables.workspaces import Workspace

metadata = SQLModel.metadata


# Core tables, for queries built with select() (rows come back as plain mappings).
events_table = Event.__table__  # type: ignore[attr-defined]
channels_table = Channel.__table__  # type: ignore[attr-defined]
workspaces_table = Workspace.__table__  # type: ignore[attr-defined]
tokens_table = Token.__table__  # type: ignore[attr-defined]
positions_table = EventPosition.__table__  # type: ignore[attr-defined]
counts_table = EventCount.__table__  # type: ignore[attr-defined]
idempotency_table = IdempotencyKey.__table__  # type: ignore[attr-defined]
webhooks_table = Webhook.__table__  # type: ignore[attr-defined]
deliveries_table = WebhookDelivery.__table__  # type: ignore[attr-defined]
attempts_table = WebhookAttempt.__table__  # type: ignore[attr-defined]
outbox_table = WebhookOutboxEntry.__table__  # type: ignore[attr-defined]
ranges_table = WebhookRange.__table__  # type: ignore[attr-defined]
deployment_table = Deployment.__table__  # type: ignore[attr-defined]


# Read views: the same columns and types without constraints. Selecting from a subquery
# or alias proxies every column, and proxying a Column that carries a ForeignKey registers
# event listeners each time — a large share of a request's CPU. Reads are built on these.
def _view(source: Table) -> TableClause:
    return table(source.name, *(column(c.name, c.type) for c in source.c))


events_view = _view(events_table)
channels_view = _view(channels_table)
workspaces_view = _view(workspaces_table)

__all__ = [
    "Channel",
    "Deployment",
    "Event",
    "EventCount",
    "EventPosition",
    "IdempotencyKey",
    "Token",
    "Webhook",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookRange",
    "Workspace",
    "attempts_table",
    "channels_table",
    "channels_view",
    "counts_table",
    "deliveries_table",
    "deployment_table",
    "events_table",
    "events_view",
    "idempotency_table",
    "metadata",
    "outbox_table",
    "positions_table",
    "ranges_table",
    "tokens_table",
    "webhooks_table",
    "workspaces_table",
    "workspaces_view",
]
