"""Composition root: ``create_app(settings)`` wires HTTP, GraphQL and REST together."""

from __future__ import annotations

from fastapi import FastAPI

from app.csrf import CsrfMiddleware
from app.http_limits import BodyLimitMiddleware
from app.lifespan import build_lifespan
from app.settings import Settings
from graphql_schema.fast_path.middleware import FastQueryMiddleware
from graphql_schema.inputs.coerce import coerce_filter
from graphql_schema.router import create_graphql_router
from rest.edge import EdgeMiddleware
from rest.router import install_rest


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the ASGI app; tests pass their own ``Settings``."""
    settings = settings or Settings()
    app = FastAPI(
        title="Eventgraph",
        version="0.1.0",
        description="Event store and realtime stream: GraphQL at /graphql, REST under /api.",
        lifespan=build_lifespan(settings, parse_filter=coerce_filter),
        # /docs is rest.docs_page (served offline); ReDoc would load from a CDN.
        docs_url=None,
        redoc_url=None,
    )
    graphql_router = create_graphql_router(settings)
    app.include_router(graphql_router)
    install_rest(app, settings)
    # innermost: sees bounded bodies, is measured
    app.add_middleware(FastQueryMiddleware, view=graphql_router, enabled=settings.fast_paths)
    app.add_middleware(CsrfMiddleware)
    app.add_middleware(BodyLimitMiddleware, max_body_bytes=settings.max_body_bytes)
    # outermost: metrics, security headers (the 413s included), the answer to what escapes
    app.add_middleware(EdgeMiddleware)
    return app
