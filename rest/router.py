"""Mounts the REST shim, health routes and error handlers on the app."""

from __future__ import annotations

from fastapi import FastAPI

from app.settings import Settings
from rest.health import router as health_router


def install_rest(app: FastAPI, settings: Settings) -> None:
    app.include_router(health_router)
