"""``LoopHistogram`` exposes what prometheus_client's ``Histogram`` does for the same values."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Histogram, generate_latest

from app.observability.histogram import LoopHistogram

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
VALUES = [0.0, 0.0005, 0.001, 0.0010001, 0.004, 0.005, 0.3, 1.0, 2.5, 4.99, 5.0, 7.5, 123.0]


def _series(registry: CollectorRegistry) -> list[str]:
    text = generate_latest(registry).decode()
    return [line for line in text.splitlines() if line and "_created" not in line]


def test_the_exposition_equals_prometheus_clients() -> None:
    ours, theirs = CollectorRegistry(), CollectorRegistry()
    loop = LoopHistogram("x_seconds", "doc", buckets=BUCKETS, registry=ours)
    reference = Histogram("x_seconds", "doc", buckets=BUCKETS, registry=theirs)
    assert _series(ours) == _series(theirs)
    for value in VALUES:
        loop.observe(value)
        reference.observe(value)
        assert _series(ours) == _series(theirs)
