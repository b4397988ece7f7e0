"""PLACEHOLDER: replaced by the GraphQL work."""

from __future__ import annotations

from fastapi import APIRouter

from app.settings import Settings


def create_graphql_router(settings: Settings) -> APIRouter:
    return APIRouter()
