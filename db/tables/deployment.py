"""The deployment: one row naming the database, shared by every process that uses it."""

from __future__ import annotations

from sqlalchemy import Column, Integer, String
from sqlmodel import Field, SQLModel


class Deployment(SQLModel, table=True):
    """At most one row (``id`` 1). ``deployment_id`` is random, written by the first process
    that needs it (the Redis bus names its channel after it, docs/realtime.md); the
    migration leaves the table empty, so a copy of a freshly migrated database gets its
    own id."""

    __tablename__ = "deployment"

    id: int = Field(sa_column=Column(Integer, primary_key=True))
    deployment_id: str = Field(sa_column=Column(String(32), nullable=False))
