"""API tokens; only a SHA-256 hash of the secret is stored."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, String
from sqlmodel import Field, SQLModel

from db.types import CodePointText, JsonValue, UtcDateTime


class Token(SQLModel, table=True):
    __tablename__ = "tokens"
    __table_args__ = (Index("tokens_secret_hash_idx", "secret_hash", unique=True),)

    id: str = Field(sa_column=Column(String(26), primary_key=True))
    name: str = Field(sa_column=Column(CodePointText, nullable=False))
    kind: str = Field(sa_column=Column(String(16), nullable=False))
    secret_hash: str = Field(sa_column=Column(String(64), nullable=False))
    channel_ids: list[str] = Field(sa_column=Column(JsonValue, nullable=False))
    workspace_ids: list[str] = Field(sa_column=Column(JsonValue, nullable=False))
    publisher_id: str | None = Field(default=None, sa_column=Column(CodePointText))
    publisher_name: str | None = Field(default=None, sa_column=Column(CodePointText))
    expires_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime))
    created_at: datetime = Field(sa_column=Column(UtcDateTime, nullable=False))
