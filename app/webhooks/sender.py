"""One HTTP POST to a webhook: to a checked address, bounded in time and size."""

from __future__ import annotations

import asyncio
import socket
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote, urlsplit

import httpcore

from app.webhooks.address import AddressRefused, resolve

MAX_RESPONSE_BYTES = 4096  # read at most this much of a response body
SNIPPET_CHARS = 1024  # and keep this much in the attempt log
MAX_RETRY_AFTER = 24 * 3600.0
# Left as they are in the request target (already escaped, or allowed there unescaped).
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"
_QUERY_SAFE = _PATH_SAFE + "?"


@dataclass(frozen=True, slots=True)
class Outcome:
    status_code: int | None
    latency_ms: int
    response: str | None = None
    error: str | None = None
    retry_after: float | None = None


Client = httpcore.AsyncConnectionPool

# What a request can fail with (httpcore's exceptions have no common base of their own).
_FAILURES = (
    httpcore.NetworkError,
    httpcore.ProtocolError,
    httpcore.UnsupportedProtocol,
    httpcore.ProxyError,
    httpcore.ConnectionNotAvailable,
)


def new_client() -> Client:
    """httpcore's connection pool, without httpx's client on top (which cost about a third
    more CPU per request): it follows no redirects and reads no proxy settings from the
    environment. TCP_NODELAY: headers and body are separate writes, and Nagle + delayed
    ACK would add ~40 ms to every request."""
    return httpcore.AsyncConnectionPool(
        socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]
    )


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


def _idna(netloc: str) -> bytes:
    """``netloc`` with a non-ASCII host name in its ASCII (punycode) form."""
    host, colon, port = (
        netloc.rpartition(":") if netloc.rfind(":") > netloc.rfind("]") else (netloc, "", "")
    )
    return host.encode("idna") + (colon + port).encode("ascii")


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> str | None:
    for key, value in headers:
        if key.lower() == name:
            return value.decode("latin-1")
    return None


async def post(
    client: Client,
    *,
    url: str,
    body: str,
    headers: dict[str, str],
    time_limit: float,
    allow_private: bool,
) -> Outcome:
    """POST ``body`` to the checked address of ``url`` (``Host`` and TLS SNI name the
    URL's host); never raises for a network or receiver problem."""
    started = time.perf_counter()

    def elapsed() -> int:
        return int((time.perf_counter() - started) * 1000)

    try:
        target = await resolve(url, allow_private=allow_private)
    except AddressRefused as exc:
        return Outcome(None, elapsed(), error=f"refused: {exc}")
    parts = urlsplit(url)
    host_header = parts.netloc.rpartition("@")[2]
    path = quote(parts.path or "/", safe=_PATH_SAFE)
    query = quote(parts.query, safe=_QUERY_SAFE)
    pinned = httpcore.URL(
        scheme=target.scheme.encode(),
        host=str(target.addresses[0]).encode(),
        port=target.port,
        target=(f"{path}?{query}" if query else path).encode("ascii"),
    )
    content = body.encode()
    sent_headers = [
        (b"host", host_header.encode("ascii") if host_header.isascii() else _idna(host_header)),
        (b"content-type", b"application/json"),
        (b"content-length", str(len(content)).encode()),
        *((name.encode(), value.encode()) for name, value in headers.items()),
    ]
    extensions: dict[str, Any] = {
        "timeout": dict.fromkeys(("connect", "read", "write", "pool"), time_limit)
    }
    if target.scheme == "https":
        extensions["sni_hostname"] = target.host
    chunks = bytearray()
    try:
        async with asyncio.timeout(time_limit):  # the whole exchange, not each read
            async with client.stream(
                b"POST", pinned, headers=sent_headers, content=content, extensions=extensions
            ) as response:
                async for chunk in response.aiter_stream():
                    chunks += chunk
                    if len(chunks) >= MAX_RESPONSE_BYTES:
                        break
    except (httpcore.TimeoutException, TimeoutError):
        return Outcome(None, elapsed(), error=f"timed out after {time_limit:g} s")
    except _FAILURES as exc:
        return Outcome(None, elapsed(), error=f"{type(exc).__name__}: {exc}"[:SNIPPET_CHARS])
    text = bytes(chunks[:MAX_RESPONSE_BYTES]).decode("utf-8", "replace")[:SNIPPET_CHARS]
    return Outcome(
        response.status,
        elapsed(),
        response=text or None,
        retry_after=retry_after_seconds(
            _header(response.headers, b"retry-after"), now=datetime.now(UTC)
        ),
    )
