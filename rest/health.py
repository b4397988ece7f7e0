"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from app.observability.metrics import render_metrics, set_pool_status
from app.state import app_state

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="The process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="The database and the broadcast bus are reachable")
async def readyz(request: Request) -> JSONResponse:
    state = app_state(request)
    database = await state.db.ping()
    bus = state.hub.bus.connected
    ok = database and bus
    body = {
        "status": "ok" if ok else "unavailable",
        "database": "ok" if database else "unavailable",
        "broadcast": "ok" if bus else "unavailable",
    }
    return JSONResponse(body, status_code=200 if ok else 503)


@router.get("/metrics", summary="Prometheus metrics (text exposition format)")
async def metrics(request: Request) -> Response:
    set_pool_status(*app_state(request).db.pool_status())
    body, content_type = render_metrics()
    return Response(content=body, media_type=content_type)
