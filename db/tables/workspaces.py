"""Workspaces: the outermost scope of channels and events."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from db.types import CodePointText, UtcDateTime


class Workspace(SQLModel, table=True):
    __tablename__ = "workspaces"

    id: str = Field(sa_column=Column(CodePointText, primary_key=True))
    name: str = Field(sa_column=Column(CodePointText, nullable=False))
    created_at: datetime = Field(sa_column=Column(UtcDateTime, nullable=False))
