"""Idempotency keys of publishes: a retried publish answers the events it stored first."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, String
from sqlmodel import Field, SQLModel

from db.types import CodePointText, JsonValue, UtcDateTime


class IdempotencyKey(SQLModel, table=True):
    """Written in the publishing transaction; the primary key decides concurrent retries."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (Index("idempotency_keys_created_at_idx", "created_at"),)

    # The publisher: a token id, or "admin" for the configured admin token.
    owner: str = Field(sa_column=Column(CodePointText, primary_key=True))
    key: str = Field(sa_column=Column(CodePointText, primary_key=True))
    request_hash: str = Field(sa_column=Column(String(64), nullable=False))
    event_ids: list[str] = Field(sa_column=Column(JsonValue, nullable=False))
    created_at: datetime = Field(sa_column=Column(UtcDateTime, nullable=False))
