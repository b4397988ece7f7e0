"""One HTTP POST to a webhook: to a checked address, bounded in time and size."""

from __future__ import annotations

import asyncio
import socket
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from app.webhooks.address import AddressRefused, resolve

MAX_RESPONSE_BYTES = 4096  # read at most this much of a response body
SNIPPET_CHARS = 1024  # and keep this much in the attempt log
MAX_RETRY_AFTER = 24 * 3600.0


@dataclass(frozen=True, slots=True)
class Outcome:
    status_code: int | None
    latency_ms: int
    response: str | None = None
    error: str | None = None
    retry_after: float | None = None


def new_client() -> httpx.AsyncClient:
    """No redirects, no proxies from the environment. TCP_NODELAY: headers and body are
    separate writes, and Nagle + delayed ACK would add ~40 ms to every request."""
    transport = httpx.AsyncHTTPTransport(
        socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]
    )
    return httpx.AsyncClient(follow_redirects=False, trust_env=False, transport=transport)


def retry_after_seconds(value: str | None, *, now: datetime) -> float | None:
    """``Retry-After`` as seconds (delta-seconds or an HTTP date), capped at a day."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return min(max((when - now).total_seconds(), 0.0), MAX_RETRY_AFTER)


async def post(
    client: httpx.AsyncClient,
    *,
    url: str,
    body: str,
    headers: dict[str, str],
    time_limit: float,
    allow_private: bool,
) -> Outcome:
    """POST ``body``; never raises for a network or receiver problem."""
    started = time.perf_counter()

    def elapsed() -> int:
        return int((time.perf_counter() - started) * 1000)

    try:
        target = await resolve(url, allow_private=allow_private)
    except AddressRefused as exc:
        return Outcome(None, elapsed(), error=f"refused: {exc}")
    parsed = httpx.URL(url)
    pinned = parsed.copy_with(host=str(target.addresses[0]))
    host_header = parsed.netloc.decode("ascii").rpartition("@")[2]
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    request = client.build_request(
        "POST",
        pinned,
        content=body.encode(),
        headers={**headers, "host": host_header, "content-type": "application/json"},
        timeout=time_limit,
        extensions=extensions,
    )
    chunks = bytearray()
    try:
        async with asyncio.timeout(time_limit):  # the whole exchange, not each read
            response = await client.send(request, stream=True)
            try:
                async for chunk in response.aiter_raw():
                    chunks += chunk
                    if len(chunks) >= MAX_RESPONSE_BYTES:
                        break
            finally:
                await response.aclose()
    except (httpx.TimeoutException, TimeoutError):
        return Outcome(None, elapsed(), error=f"timed out after {time_limit:g} s")
    except httpx.HTTPError as exc:
        return Outcome(None, elapsed(), error=f"{type(exc).__name__}: {exc}"[:SNIPPET_CHARS])
    text = bytes(chunks[:MAX_RESPONSE_BYTES]).decode("utf-8", "replace")[:SNIPPET_CHARS]
    return Outcome(
        response.status_code,
        elapsed(),
        response=text or None,
        retry_after=retry_after_seconds(response.headers.get("retry-after"), now=datetime.now(UTC)),
    )
