"""Channels: where events are published; public or private, optionally strictly typed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Column, ForeignKey, Index
from sqlmodel import Field, SQLModel

from db.types import CodePointText, JsonValue, UtcDateTime


class Channel(SQLModel, table=True):
    __tablename__ = "channels"
    __table_args__ = (Index("channels_workspace_id_idx", "workspace_id"),)

    id: str = Field(sa_column=Column(CodePointText, primary_key=True))
    name: str = Field(sa_column=Column(CodePointText, nullable=False))
    workspace_id: str = Field(
        sa_column=Column(
            CodePointText, ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False
        )
    )
    private: bool = Field(sa_column=Column(Boolean, nullable=False, default=False))
    strict_types: bool = Field(sa_column=Column(Boolean, nullable=False, default=False))
    schemas: dict[str, Any] = Field(sa_column=Column(JsonValue, nullable=False))
    created_at: datetime = Field(sa_column=Column(UtcDateTime, nullable=False))
