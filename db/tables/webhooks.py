"""Webhooks, their outbox of deliveries and the log of delivery attempts.

A delivery row is written in the publishing (or replaying) transaction and references its
event (``event_id``); the body is built from the event row when it is sent, so a batch
stores each event once whatever the number of webhooks. Deliveries reference their webhook
without a foreign key: staging joins the webhook row and drops deliveries of a webhook
deleted a moment ago, and the log pruning removes any left by a delete that raced it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Column, ForeignKey, Index, Integer, String, Text, text
from sqlmodel import Field, SQLModel

from db.types import CodePointText, JsonValue, UtcDateTime


class Webhook(SQLModel, table=True):
    __tablename__ = "webhooks"

    id: str = Field(sa_column=Column(String(26), primary_key=True))
    url: str = Field(sa_column=Column(Text, nullable=False))
    channel_id: str | None = Field(default=None, sa_column=Column(CodePointText))
    filter: Any = Field(default=None, sa_column=Column(JsonValue))
    description: str | None = Field(default=None, sa_column=Column(Text))
    enabled: bool = Field(sa_column=Column(Boolean, nullable=False))
    disabled_reason: str | None = Field(default=None, sa_column=Column(Text))
    # Signing secrets are needed in clear to sign; they are never returned after creation.
    secret: str = Field(sa_column=Column(Text, nullable=False))
    previous_secret: str | None = Field(default=None, sa_column=Column(Text))
    previous_secret_until: datetime | None = Field(default=None, sa_column=Column(UtcDateTime))
    # What the creating token could read when the webhook was made (tokens never widen).
    creator_token_id: str | None = Field(default=None, sa_column=Column(String(26)))
    scope: Any = Field(sa_column=Column(JsonValue, nullable=False))
    created_at: datetime = Field(sa_column=Column(UtcDateTime, nullable=False))
    updated_at: datetime = Field(sa_column=Column(UtcDateTime, nullable=False))


class WebhookDelivery(SQLModel, table=True):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        # Every query of pending deliveries names its webhook: this one serves them all.
        Index("webhook_deliveries_webhook_idx", "webhook_id", "status", "created_at", "event_seq"),
        # Pruning the log; a pending delivery has no entry (staging writes two, not three).
        Index(
            "webhook_deliveries_finished_idx",
            "created_at",
            postgresql_where=text("status <> 'pending'"),
            sqlite_where=text("status <> 'pending'"),
        ),
        Index(
            "webhook_deliveries_leased_idx",
            "webhook_id",
            "lease_until",
            postgresql_where=text("lease_until IS NOT NULL"),
            sqlite_where=text("lease_until IS NOT NULL"),
        ),
    )

    id: str = Field(sa_column=Column(String(30), primary_key=True))  # the webhook-id header
    webhook_id: str = Field(sa_column=Column(String(26), nullable=False))
    event_id: str = Field(sa_column=Column(CodePointText, nullable=False))
    event_seq: int = Field(
        sa_column=Column(BigInteger().with_variant(Integer, "sqlite"), nullable=False)
    )
    kind: str = Field(sa_column=Column(String(20), nullable=False))
    status: str = Field(sa_column=Column(String(10), nullable=False))
    attempts: int = Field(sa_column=Column(Integer, nullable=False))
    next_attempt_at: datetime = Field(sa_column=Column(UtcDateTime, nullable=False))
    lease_owner: str | None = Field(default=None, sa_column=Column(String(40)))
    lease_until: datetime | None = Field(default=None, sa_column=Column(UtcDateTime))
    created_at: datetime = Field(sa_column=Column(UtcDateTime, nullable=False))
    finished_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime))


class WebhookAttempt(SQLModel, table=True):
    __tablename__ = "webhook_attempts"
    __table_args__ = (Index("webhook_attempts_delivery_idx", "delivery_id", "number", unique=True),)

    id: str = Field(sa_column=Column(String(26), primary_key=True))
    delivery_id: str = Field(
        sa_column=Column(
            String(30), ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), nullable=False
        )
    )
    number: int = Field(sa_column=Column(Integer, nullable=False))
    attempted_at: datetime = Field(sa_column=Column(UtcDateTime, nullable=False))
    status_code: int | None = Field(default=None, sa_column=Column(Integer))
    latency_ms: int = Field(sa_column=Column(Integer, nullable=False))
    response: str | None = Field(default=None, sa_column=Column(Text))
    error: str | None = Field(default=None, sa_column=Column(Text))


class WebhookOutboxEntry(SQLModel, table=True):
    """What one publishing (or replaying) transaction queued for webhooks, as one row:
    ``entries`` is JSON ``{"events": [[id, seq], ...], "hooks": [[webhook_id, null |
    [event index, ...]], ...]}`` (``null``: every event). The dispatcher expands it into
    ``webhook_deliveries`` rows and deletes it, off the publishing path."""

    __tablename__ = "webhook_outbox"

    id: int | None = Field(
        default=None,
        sa_column=Column(
            BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
        ),
    )
    kind: str = Field(sa_column=Column(String(20), nullable=False))
    created_at: datetime = Field(sa_column=Column(UtcDateTime, nullable=False))
    entries: str = Field(sa_column=Column(Text, nullable=False))


class WebhookRange(SQLModel, table=True):
    """Deliveries of one webhook from one outbox row that are not delivery rows (yet): the
    events a paused webhook skipped (``status`` ``skipped``), or those waiting for room
    in the webhook's window of delivery rows (``pending``, ``app.webhooks.expansion``).
    ``events`` is JSON ``[[id, seq], ...]`` (``size`` of them); the n-th event's delivery
    id is ``id_head`` and the serial n (``app.webhooks.ids``). The log reads a range as
    that many deliveries (``app.webhooks.ranges``)."""

    __tablename__ = "webhook_ranges"
    __table_args__ = (
        Index("webhook_ranges_webhook_idx", "webhook_id", "created_at"),  # the log
        Index("webhook_ranges_status_idx", "webhook_id", "status", "id"),  # release, stats
        Index("webhook_ranges_created_idx", "created_at"),  # pruning the log
    )

    id: int | None = Field(
        default=None,
        sa_column=Column(
            BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
        ),
    )
    webhook_id: str = Field(sa_column=Column(String(26), nullable=False))
    status: str = Field(sa_column=Column(String(10), nullable=False))
    id_head: str = Field(sa_column=Column(String(26), nullable=False))
    kind: str = Field(sa_column=Column(String(20), nullable=False))
    created_at: datetime = Field(sa_column=Column(UtcDateTime, nullable=False))
    size: int = Field(sa_column=Column(Integer, nullable=False))
    events: str = Field(sa_column=Column(Text, nullable=False))
