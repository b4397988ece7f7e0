"""Events, with a commit-ordered position ``seq``; docs/indexes.md says which filter or order
needs which index (PostgreSQL-only ones are created by the migrations).

``seq`` is assigned while the publishing transaction holds the row lock of the
``event_positions`` counter (see ``db/repositories/events.py``), so positions become
visible strictly in increasing order: a reader that sees position N has seen every
position below N. Polling cursors and subscription resume stand on it; ULIDs and
timestamps are assigned before commit and are not commit-ordered across transactions.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, PrimaryKeyConstraint
from sqlmodel import Field, SQLModel

from db.event_fields import EVENT_FIELDS
from db.types import CodePointText, JsonValue, UtcDateTime

# Each text field of the query language but ``id`` gets a (column, id) index: the order of
# ``orderBy: [{column: asc|desc}]``.
ORDERABLE_COLUMNS = tuple(
    f.column for f in EVENT_FIELDS if f.filterable and f.kind == "text" and f.column != "id"
)


class Event(SQLModel, table=True):
    __tablename__ = "events"
    __table_args__ = (
        Index("events_seq_idx", "seq", unique=True),
        Index("events_created_at_id_idx", "created_at", "id"),
        Index("events_type_created_at_idx", "type", "created_at", "id"),
        Index("events_channel_id_seq_idx", "channel_id", "seq"),
        Index("events_channel_id_created_at_idx", "channel_id", "created_at", "id"),
        Index("events_workspace_id_created_at_idx", "workspace_id", "created_at", "id"),
        *(Index(f"events_{name}_id_idx", name, "id") for name in ORDERABLE_COLUMNS),
    )

    id: str = Field(sa_column=Column(CodePointText, primary_key=True))
    seq: int = Field(sa_column=Column(BigInteger().with_variant(Integer, "sqlite"), nullable=False))
    type: str | None = Field(default=None, sa_column=Column(CodePointText))
    channel_id: str = Field(
        sa_column=Column(
            CodePointText, ForeignKey("channels.id", ondelete="CASCADE"), nullable=False
        )
    )
    workspace_id: str = Field(
        sa_column=Column(
            CodePointText, ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False
        )
    )
    subject_id: str | None = Field(default=None, sa_column=Column(CodePointText))
    user_id: str | None = Field(default=None, sa_column=Column(CodePointText))
    # No foreign key: deleting an event leaves its children's parent_id as it was.
    parent_id: str | None = Field(default=None, sa_column=Column(CodePointText))
    publisher_id: str | None = Field(default=None, sa_column=Column(CodePointText))
    publisher_name: str | None = Field(default=None, sa_column=Column(CodePointText))
    data: Any = Field(default=None, sa_column=Column(JsonValue))
    meta: Any = Field(default=None, sa_column=Column(JsonValue))
    created_at: datetime = Field(sa_column=Column(UtcDateTime, nullable=False))


class EventPosition(SQLModel, table=True):
    """A single row holding the last assigned ``seq``; its row lock orders commits."""

    __tablename__ = "event_positions"

    id: int = Field(sa_column=Column(Integer, primary_key=True))
    last_seq: int = Field(sa_column=Column(BigInteger, nullable=False))


class EventCount(SQLModel, table=True):
    """How many events a (channel, workspace) holds; kept in the writing transactions
    (docs/counters.md) so ``totalCount`` of a scope needs no scan."""

    __tablename__ = "event_counts"
    __table_args__ = (PrimaryKeyConstraint("channel_id", "workspace_id"),)

    channel_id: str = Field(
        sa_column=Column(CodePointText, ForeignKey("channels.id", ondelete="CASCADE"))
    )
    workspace_id: str = Field(
        sa_column=Column(CodePointText, ForeignKey("workspaces.id", ondelete="CASCADE"))
    )
    n: int = Field(sa_column=Column(BigInteger, nullable=False))
