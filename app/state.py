"""The typed state of a running app, built once in the lifespan."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.events.delivery import Delivery
from app.realtime.hub import Hub
from app.settings import Settings
from db.database import Database


@dataclass(slots=True)
class AppState:
    settings: Settings
    db: Database
    delivery: Delivery
    hub: Hub


def app_state(holder: Any) -> AppState:
    """The ``AppState`` of a Starlette ``Request``/``WebSocket`` (anything with ``.app``)."""
    state: AppState = holder.app.state.eventgraph
    return state
