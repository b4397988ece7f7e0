"""Webhook instruments, on the application's Prometheus registry."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from prometheus_client import Counter, Gauge

from app.observability.metrics import REGISTRY

ATTEMPTED = Counter(
    "eventgraph_webhook_deliveries_attempted",
    "Webhook delivery attempts (every POST, retries included)",
    registry=REGISTRY,
)
SUCCEEDED = Counter(
    "eventgraph_webhook_deliveries_succeeded",
    "Webhook deliveries acknowledged with a 2xx",
    registry=REGISTRY,
)
FAILED = Counter(
    "eventgraph_webhook_deliveries_failed",
    "Webhook deliveries given up (permanent error, 410, or out of attempts)",
    registry=REGISTRY,
)
QUEUE_DEPTH = Gauge(
    "eventgraph_webhook_queue_depth",
    "Pending deliveries per webhook (as last sampled by this process's dispatcher)",
    ["webhook"],
    registry=REGISTRY,
)
OLDEST_AGE = Gauge(
    "eventgraph_webhook_oldest_pending_age_seconds",
    "Age of the oldest pending delivery per webhook",
    ["webhook"],
    registry=REGISTRY,
)


def set_queue_stats(stats: Iterable[Mapping[str, Any]], *, now: datetime) -> None:
    """Replace the per-webhook gauges (webhooks with an empty queue drop out)."""
    QUEUE_DEPTH.clear()
    OLDEST_AGE.clear()
    for row in stats:
        QUEUE_DEPTH.labels(row["webhook_id"]).set(row["depth"])
        OLDEST_AGE.labels(row["webhook_id"]).set(max((now - row["oldest"]).total_seconds(), 0))
