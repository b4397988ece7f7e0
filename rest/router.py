"""Mounts the REST shim, health routes and error handlers on the app."""

from __future__ import annotations

from fastapi import Depends, FastAPI

from app.settings import Settings
from rest import admin_api, channels_api, docs_page, events_api, manage_api, sse, webhooks_api
from rest.deps import reject_nul
from rest.errors import install_error_handlers
from rest.fast_list import FastListMiddleware
from rest.fast_publish import FastPublishMiddleware
from rest.health import router as health_router
from rest.openapi import install_openapi

OPENAPI_TAGS = [
    {
        "name": "events (/api/events)",
        "description": "Query events with JSON `filter`/`orderBy` (the GraphQL inputs), keyset"
        " cursors, and an NDJSON export. Bearer token or `session` cookie required.",
    },
    {
        "name": "admin events (/v1/admin)",
        "description": "Browse and replay events with an admin token.",
    },
    {
        "name": "channel events (/api/v1/channels)",
        "description": "Publish into a channel and poll it in publish order with a cursor.",
    },
    {
        "name": "streams (Server-Sent Events)",
        "description": "Live events as `text/event-stream`, resumable with `Last-Event-ID`.",
    },
    {"name": "management", "description": "Workspaces, channels and tokens (admin token)."},
    {
        "name": "admin webhooks (/v1/admin)",
        "description": "Webhooks, their delivery logs and retries (admin token).",
    },
    {"name": "operations", "description": "Health, readiness and metrics."},
]


def install_rest(app: FastAPI, settings: Settings) -> None:
    """Include every REST router and route all errors through the JSON envelope."""
    install_error_handlers(app)
    app.openapi_tags = [*(app.openapi_tags or []), *OPENAPI_TAGS]
    app.include_router(health_router)
    app.include_router(docs_page.router)
    guarded = [Depends(reject_nul)]
    # Before the routers whose /{id} paths would otherwise take ".../stream".
    app.include_router(sse.router, dependencies=guarded)
    app.include_router(events_api.router, dependencies=guarded)
    app.include_router(admin_api.router, dependencies=guarded)
    app.include_router(channels_api.router, dependencies=guarded)
    app.include_router(manage_api.router, dependencies=guarded)
    app.include_router(webhooks_api.router, dependencies=guarded)
    app.add_middleware(FastListMiddleware, enabled=settings.fast_paths)
    app.add_middleware(FastPublishMiddleware, enabled=settings.fast_paths)
    install_openapi(app)
