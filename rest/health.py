"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from app.observability.metrics import render_metrics, set_pool_status
from app.state import app_state

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="The process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="The database is reachable")
async def readyz(request: Request) -> JSONResponse:
    ok = await app_state(request).db.ping()
    return JSONResponse({"status": "ok" if ok else "unavailable"}, status_code=200 if ok else 503)


@router.get(
    "/metrics",
    summary="Prometheus metrics (text exposition format)",
    response_class=PlainTextResponse,
)
async def metrics(request: Request) -> Response:
    set_pool_status(*app_state(request).db.pool_status())
    body, content_type = render_metrics()
    return Response(content=body, media_type=content_type)
